"""End-to-end tests against a real ``tuangou serve`` process, over real HTTP."""

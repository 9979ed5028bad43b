"""The web app: server-rendered pages for members (phone first), leaders and operators.

Pages are thin entry points over the same services as the API (ENGINEERING.md rule 1); they
add sessions kept on the server (the cookie is a random id), CSRF tokens on every form, and
zh-CN / English translations.
"""

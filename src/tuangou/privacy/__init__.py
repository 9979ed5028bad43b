"""Privacy: a member's data export, the deletion of their account, the data retention."""

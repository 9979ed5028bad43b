"""Photos of posts, reviews and after-sale reports: checked from their bytes, cleaned of EXIF
(a phone photo carries the GPS of the member's home), resized, stored behind
:mod:`tuangou.core.storage`, and shown only to whoever may see what they are attached to."""

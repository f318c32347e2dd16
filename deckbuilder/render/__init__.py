"""Stage 2, render: Markdown to the HTML of Anki fields (clozes, highlighted code, media, sanitising),
one file at a time, cached and spread over worker processes."""

"""Stage 1, read: find the card files, split each into front matter, question and answer, read deck.yaml."""

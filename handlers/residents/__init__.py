"""What residents use: /start, /idee, /zoek, /meld, /mijn, /vraag, /volgen, /privacy, /wie."""

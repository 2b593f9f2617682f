"""Calendar feeds: what a feed contains (content), where built feeds are kept (store), keeping
them up to date in the background (builds), serving them (serving) and the delegates'
personal links (tokens)."""

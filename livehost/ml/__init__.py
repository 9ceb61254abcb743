"""Machine listening: librosa-exact audio features and the genre classifier that reads them."""

enum _PlaceholderSluiceStore {}

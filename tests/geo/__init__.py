"""The pure geometry of 附近: conversions, geohash cells, distances."""

"""Places on the map (附近): coordinates, their conversion, geohash cells and distances.

Pure functions only (``geo.rules``): no database, no framework. Coordinates in the platform
are GCJ-02 (the system Chinese map apps use); WGS-84 (a browser's geolocation, GPS) is
converted at the edges with :func:`tuangou.geo.rules.wgs84_to_gcj02`.
"""

"""The fashion database: studios (the tenant), designers, clients, collections, products, fittings, orders."""

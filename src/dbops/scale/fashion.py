"""placeholder"""
class FashionData:
    tables = ()

__version__ = "0.1.0"
# The name on the package index (`pip install pyganzoo`; plugins declare `pyganzoo>=X,<Y`): `ganzoo` there is an
# unrelated project. The import name and the command stay `ganzoo`.
DISTRIBUTION = "pyganzoo"

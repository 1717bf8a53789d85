"""servicechain: evidence for the service-profit chain.

Recognition, empowerment and leadership behaviour -> employee retention ->
customer loyalty -> money. Logic lives here; notebooks call it.
"""

__version__ = "0.1.0"

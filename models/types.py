"""Column types shared by the models: money and rates are exact decimals, never floats."""
from sqlalchemy import Numeric

Money = Numeric(18, 2, asdecimal=True)
Rate = Numeric(9, 6, asdecimal=True)

"""The `units` tool: converts physical quantities between units.

A Corral example tool written in Python, built into a WebAssembly component
with componentize-py (see this folder's README.md). `wit/units.wit` declares
its types and functions; componentize-py generates the `wit_world` module
from it, and the class `WitWorld` below implements the world's exports.
Each call runs in a fresh instance, so nothing here keeps state between
calls: the unit table is built when componentize-py pre-initialises the
interpreter, and lives in the component's memory image.
"""

import math

from componentize_py_types import Err
import wit_world
from wit_world.imports import log as mcp_log
from wit_world import (
    Conversion,
    ConversionError_BelowAbsoluteZero,
    ConversionError_IncompatibleUnits,
    ConversionError_InvalidArgument,
    ConversionError_UnknownUnit,
    Dimension,
    Mismatch,
    Quantity,
    Rounding_Decimals,
    Rounding_Exact,
    Rounding_Significant,
    UnitInfo,
)


class Unit:
    """One unit: `value * scale + offset` is the amount in its dimension's
    base unit (metre, kilogram, kelvin, litre, metre per second, second,
    byte)."""

    def __init__(self, symbol, name, dimension, scale, aliases=(), offset=0.0):
        self.symbol = symbol
        self.name = name
        self.dimension = dimension
        self.scale = scale
        self.offset = offset
        self.aliases = list(aliases)

    def to_base(self, value):
        return value * self.scale + self.offset

    def from_base(self, value):
        return (value - self.offset) / self.scale


D = Dimension
UNITS = [
    # Length, in metres.
    Unit("m", "metre", D.LENGTH, 1.0, ["meter", "meters", "metres"]),
    Unit("km", "kilometre", D.LENGTH, 1000.0, ["kilometer", "kilometers", "kilometres"]),
    Unit("cm", "centimetre", D.LENGTH, 0.01, ["centimeter", "centimeters", "centimetres"]),
    Unit("mm", "millimetre", D.LENGTH, 0.001, ["millimeter", "millimeters", "millimetres"]),
    Unit("in", "inch", D.LENGTH, 0.0254, ["inches", '"']),
    Unit("ft", "foot", D.LENGTH, 0.3048, ["feet", "'"]),
    Unit("yd", "yard", D.LENGTH, 0.9144, ["yards"]),
    Unit("mi", "mile", D.LENGTH, 1609.344, ["miles"]),
    Unit("nmi", "nautical mile", D.LENGTH, 1852.0, ["nautical miles"]),
    # Mass, in kilograms.
    Unit("kg", "kilogram", D.MASS, 1.0, ["kilograms", "kilo", "kilos"]),
    Unit("g", "gram", D.MASS, 0.001, ["grams"]),
    Unit("mg", "milligram", D.MASS, 1e-6, ["milligrams"]),
    Unit("t", "tonne", D.MASS, 1000.0, ["tonnes", "metric ton"]),
    Unit("lb", "pound", D.MASS, 0.45359237, ["lbs", "pounds"]),
    Unit("oz", "ounce", D.MASS, 0.028349523125, ["ounces"]),
    Unit("st", "stone", D.MASS, 6.35029318, ["stones"]),
    # Temperature, in kelvin.
    Unit("K", "kelvin", D.TEMPERATURE, 1.0, ["kelvins"]),
    Unit("degC", "degree Celsius", D.TEMPERATURE, 1.0, ["c", "°c", "celsius"], offset=273.15),
    Unit("degF", "degree Fahrenheit", D.TEMPERATURE, 5.0 / 9.0, ["f", "°f", "fahrenheit"],
         offset=273.15 - 32.0 * 5.0 / 9.0),
    Unit("degR", "degree Rankine", D.TEMPERATURE, 5.0 / 9.0, ["rankine"]),
    # Volume, in litres.
    Unit("l", "litre", D.VOLUME, 1.0, ["liter", "liters", "litres"]),
    Unit("ml", "millilitre", D.VOLUME, 0.001, ["milliliter", "milliliters", "millilitres"]),
    Unit("m3", "cubic metre", D.VOLUME, 1000.0, ["m³", "cubic meter", "cubic meters"]),
    Unit("gal", "US gallon", D.VOLUME, 3.785411784, ["gallon", "gallons"]),
    Unit("qt", "US quart", D.VOLUME, 0.946352946, ["quart", "quarts"]),
    Unit("cup", "US cup", D.VOLUME, 0.2365882365, ["cups"]),
    Unit("floz", "US fluid ounce", D.VOLUME, 0.0295735295625, ["fl oz", "fluid ounce"]),
    Unit("impgal", "imperial gallon", D.VOLUME, 4.54609, ["imperial gallon"]),
    # Speed, in metres per second.
    Unit("m/s", "metre per second", D.SPEED, 1.0, ["mps"]),
    Unit("km/h", "kilometre per hour", D.SPEED, 1000.0 / 3600.0, ["kph", "kmh"]),
    Unit("mph", "mile per hour", D.SPEED, 1609.344 / 3600.0, ["mi/h"]),
    Unit("kn", "knot", D.SPEED, 1852.0 / 3600.0, ["knot", "knots", "kt"]),
    Unit("ft/s", "foot per second", D.SPEED, 0.3048, ["fps"]),
    # Time, in seconds.
    Unit("s", "second", D.TIME, 1.0, ["sec", "seconds"]),
    Unit("ms", "millisecond", D.TIME, 0.001, ["milliseconds"]),
    Unit("min", "minute", D.TIME, 60.0, ["minutes"]),
    Unit("h", "hour", D.TIME, 3600.0, ["hr", "hours"]),
    Unit("d", "day", D.TIME, 86400.0, ["days"]),
    Unit("wk", "week", D.TIME, 604800.0, ["week", "weeks"]),
    # Data size, in bytes.
    Unit("B", "byte", D.DATA, 1.0, ["byte", "bytes"]),
    Unit("bit", "bit", D.DATA, 0.125, ["bits"]),
    Unit("kB", "kilobyte", D.DATA, 1e3, ["kilobyte", "kilobytes"]),
    Unit("MB", "megabyte", D.DATA, 1e6, ["megabyte", "megabytes"]),
    Unit("GB", "gigabyte", D.DATA, 1e9, ["gigabyte", "gigabytes"]),
    Unit("KiB", "kibibyte", D.DATA, 1024.0, ["kibibyte", "kibibytes"]),
    Unit("MiB", "mebibyte", D.DATA, 1024.0**2, ["mebibyte", "mebibytes"]),
    Unit("GiB", "gibibyte", D.DATA, 1024.0**3, ["gibibyte", "gibibytes"]),
]

# Every spelling, lower-cased, to its unit. Symbols that differ only in case
# ("mb" for MB) are still unambiguous in this table.
LOOKUP = {}
for _unit in UNITS:
    for _spelling in [_unit.symbol, _unit.name, *_unit.aliases]:
        LOOKUP.setdefault(_spelling.lower(), _unit)


def find_unit(spelling):
    """The unit spelled `spelling`, or an `unknown-unit` error."""
    unit = LOOKUP.get(spelling.strip().lower())
    if unit is None:
        raise Err(ConversionError_UnknownUnit(spelling))
    return unit


def round_value(value, rounding):
    """`value` rounded as `rounding` asks."""
    if rounding is None or isinstance(rounding, Rounding_Exact):
        return value
    if isinstance(rounding, Rounding_Decimals):
        if rounding.value > 15:
            raise Err(ConversionError_InvalidArgument(
                f"decimals must be at most 15, got {rounding.value}"))
        return round(value, rounding.value)
    if isinstance(rounding, Rounding_Significant):
        if not 1 <= rounding.value <= 17:
            raise Err(ConversionError_InvalidArgument(
                f"significant digits must be between 1 and 17, got {rounding.value}"))
        return float(f"{value:.{rounding.value}g}")
    raise AssertionError(f"unknown rounding {rounding!r}")


def show(value):
    """A number in at most 15 significant digits, without a trailing `.0`."""
    return f"{value:.15g}"


class WitWorld(wit_world.WitWorld):
    """The exports of the `units` world."""

    def convert(self, quantity, to, rounding):
        if not math.isfinite(quantity.value):
            raise Err(ConversionError_InvalidArgument(
                f"the value must be a finite number, got {quantity.value}"))
        source = find_unit(quantity.unit)
        target = find_unit(to)
        if source.dimension != target.dimension:
            raise Err(ConversionError_IncompatibleUnits(Mismatch(
                from_=source.symbol,
                from_dimension=source.dimension,
                to=target.symbol,
                to_dimension=target.dimension,
            )))
        base = source.to_base(quantity.value)
        if source.dimension == Dimension.TEMPERATURE and base < 0.0:
            raise Err(ConversionError_BelowAbsoluteZero(base))
        converted = round_value(target.from_base(base), rounding)
        # Through corral:mcp/log: reaches the client only when it asked for
        # debug messages; costs nothing otherwise.
        mcp_log.log(mcp_log.Level.DEBUG, "units",
                    f"{source.name} -> {target.name} through the base unit: {show(base)}")
        return Conversion(
            original=Quantity(value=quantity.value, unit=source.symbol),
            converted=Quantity(value=converted, unit=target.symbol),
            dimension=source.dimension,
            summary=f"{show(quantity.value)} {source.symbol} = {show(converted)} {target.symbol}",
        )

    def list_units(self, dimension):
        return [
            UnitInfo(symbol=u.symbol, name=u.name, dimension=u.dimension, aliases=list(u.aliases))
            for u in UNITS
            if dimension is None or u.dimension == dimension
        ]

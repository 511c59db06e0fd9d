"""Plain data across the process boundary: builtins round-trip, anything else stays opaque."""

from grader.plain import Opaque, decode, encode


def roundtrip(value):
    return decode(encode(value))


def test_builtins_round_trip_with_their_types():
    value = {"a": [1, 2.5, None, True], (1, "x"): {3, 4}, "f": frozenset({1}), "b": b"\x00\xff", "t": (1, [2])}
    assert roundtrip(value) == value
    assert type(roundtrip((1, 2))) is tuple and type(roundtrip([1, 2])) is list


def test_an_object_of_the_students_own_class_arrives_opaque():
    class Sneaky:
        def __eq__(self, other):  # would make any comparison pass, if it ever got here
            return True

        def __repr__(self):
            return "Sneaky()"

    got = roundtrip([Sneaky()])
    assert isinstance(got[0], Opaque) and got[0].type_name.endswith("Sneaky")
    assert got[0] != [1, 2, 3]


def test_subclasses_of_builtins_are_not_trusted():
    class Always(int):
        def __eq__(self, other):
            return True

    assert isinstance(roundtrip(Always(3)), Opaque)


def test_a_repr_that_raises_does_not_break_encoding():
    class Broken:
        def __repr__(self):
            raise RuntimeError("no")

    assert roundtrip(Broken()).text == "?"

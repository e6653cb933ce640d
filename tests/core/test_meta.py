import pytest

from pyramid_polydatum import DataManager, Meta


def test_attribute_and_item_access_and_missing_keys_read_as_none():
    meta = Meta({"user": "ann", "request_id": 7})
    assert meta.user == "ann"
    assert meta["request_id"] == 7
    assert meta.nobody is None
    assert meta["nobody"] is None
    assert meta.get("nobody", "fallback") == "fallback"
    assert "user" in meta and "nobody" not in meta
    assert dict(meta.items()) == {"user": "ann", "request_id": 7}
    assert sorted(meta) == ["request_id", "user"]
    assert len(meta) == 2


def test_keyword_construction_and_equality():
    assert Meta(user="ann") == {"user": "ann"}
    assert Meta({"a": 1}, b=2) == Meta(a=1, b=2)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda m: setattr(m, "user", "eve"),
        lambda m: delattr(m, "user"),
        lambda m: m.__setitem__("user", "eve"),
        lambda m: m.__delitem__("user"),
        lambda m: setattr(m, "_values", {}),
    ],
)
def test_meta_cannot_be_changed(mutate):
    meta = Meta({"user": "ann"})
    with pytest.raises((AttributeError, TypeError)):
        mutate(meta)
    assert meta.user == "ann"


def test_the_underlying_mapping_is_not_writable():
    meta = Meta({"user": "ann"})
    with pytest.raises(TypeError):
        meta._values["user"] = "eve"  # a read-only proxy
    assert meta.user == "ann"


def test_changing_the_source_dict_later_does_not_change_meta():
    source = {"user": "ann"}
    meta = Meta(source)
    source["user"] = "eve"
    assert meta.user == "ann"


def test_context_meta_attribute_is_read_only():
    dm = DataManager()
    with dm.context(meta={"user": "ann"}) as ctx:
        with pytest.raises(AttributeError):
            ctx.meta = Meta({"user": "eve"})
        with pytest.raises(AttributeError):
            del ctx.meta
        assert ctx.meta.user == "ann"


def test_require_names_the_missing_key():
    meta = Meta({"user": ""})
    with pytest.raises(ValueError, match="'user'"):
        meta.require("user")
    assert Meta(user="ann").require("user") == "ann"


class _ExplodingRepr:
    def __repr__(self):
        raise RuntimeError("no repr for you")


class _NotJson:
    pass


def test_repr_never_raises_and_truncates():
    meta = Meta({"bad": _ExplodingRepr(), "obj": _NotJson(), "long": "x" * 10_000, "<k>": {1, 2}})
    text = repr(meta)
    assert "unrepresentable _ExplodingRepr" in text
    assert "_NotJson" in text
    assert len(text) < 1000
    assert str(meta) == text


def test_lazy_values_are_computed_on_first_read_only_and_kept():
    calls = []

    def load_identity():
        calls.append(1)
        return {"id": 7}

    meta = Meta(identity=Meta.lazy(load_identity), request="req")
    assert "<lazy>" in repr(meta)
    assert calls == []
    assert meta.identity == {"id": 7}
    assert meta["identity"] is meta.identity
    assert calls == [1]
    assert meta.to_dict() == {"identity": {"id": 7}, "request": "req"}

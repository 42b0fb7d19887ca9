"""A plugin author's mistakes that reached a run: a regulariser option named like the [[regularizer]]
schedule (its value was read as the weight, and a resume trained at another one). One line naming the
plugin and the option, before any work."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

import ganzoo
from ganzoo.errors import RecipeError
from ganzoo.options import option, options_class
from ganzoo.recipe import load_recipe


@options_class
class WeightyOptions:
    weight: float = option(2.0, help="the penalty's own scale (collides with the schedule's weight)")


@pytest.mark.parametrize("field", ["weight", "every"])
def test_a_regulariser_option_named_like_the_schedule_is_refused(ganzoo_plugin, field):
    options = WeightyOptions if field == "weight" else options_class(
        type("EveryOptions", (), {"__annotations__": {"every": "int"}, "every": option(3)}))

    @ganzoo.hookimpl
    def register_regularizers(register):
        register("weighty", "ganzoo_regularizers.clip:WeightClip", description="a collision", options=options)

    ganzoo_plugin(SimpleNamespace(register_regularizers=register_regularizers), name="weighty-plugin")
    with pytest.raises(RecipeError) as caught:
        load_recipe("dcgan-r1-diffaug-digits", ['regularizer=[{name = "weighty", weight = 5}]'])
    message = str(caught.value)
    assert "regularizer[0].name" in message and "plugin 'weighty-plugin'" in message
    assert f"option named {field!r}" in message and "the plugin must rename that option" in message

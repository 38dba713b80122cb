def test_the_ledger_labels_are_chinese_even_when_first_imported_in_english():
    import importlib

    from django.utils import translation

    from shequ.registry import ledger

    with translation.override("en"):
        fresh = importlib.reload(ledger)
    assert fresh.ENUM_LABELS["sex"]["male"] == "男"
    assert fresh.ENUMS["sex"]["男"] == "male"

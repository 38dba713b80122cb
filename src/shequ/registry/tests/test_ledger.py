def test_the_ledger_labels_are_chinese_even_when_first_imported_in_english():
    from django.utils import translation

    from shequ.registry import ledger
    from shequ.registry.models import Sex

    # The tables are built by enum_lookup at import: it reads the site language's labels whatever
    # language is active then (a module first imported during an English request, say).
    with translation.override("en"):
        table = ledger.enum_lookup(Sex)
    assert table["男"] == "male"
    assert "Male" not in table
    assert ledger.ENUM_LABELS["sex"]["male"] == "男"
    assert ledger.ENUMS["sex"]["男"] == "male"

"""A posted record id past what a database integer holds is «not found», never a 500
(hypothesis found /writeoff_apply/new/ raising OverflowError on SQLite)."""
HUGE = "99999999999999999999999"


def test_a_huge_loan_id_on_the_write_off_form_is_not_found(client_for):
    c = client_for("officer")
    r = c.post("/writeoff_apply/new/", data={"loan_id": HUGE, "reason": "核销原因"})
    assert r.status_code < 500
    assert "Overflow" not in r.get_data(as_text=True)


def test_a_huge_id_in_a_lookup_field_is_refused(client_for):
    c = client_for("admin")
    r = c.post("/collection/new/", data={"loan": HUGE, "content": "电话联系"})
    assert r.status_code < 500

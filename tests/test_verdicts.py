from conformance.verdicts import ProfileVerdict, Verdict, profile_verdict, requirement_verdict

P, F, I, NA, M = Verdict.PASS, Verdict.FAIL, Verdict.INCONCLUSIVE, Verdict.NOT_APPLICABLE, Verdict.MANUAL  # noqa: E741


def test_requirement_takes_the_worst_check():
    assert requirement_verdict([P, I, F]) is F
    assert requirement_verdict([P, M, I]) is I
    assert requirement_verdict([P, M]) is M
    assert requirement_verdict([P, NA]) is P
    assert requirement_verdict([NA, NA]) is NA


def test_a_requirement_without_checks_is_never_a_pass():
    assert requirement_verdict([]) is I


def test_profile_verdicts():
    assert profile_verdict([P, P, NA]) is ProfileVerdict.CONFORMANT
    assert profile_verdict([P, F, I]) is ProfileVerdict.NOT_CONFORMANT
    assert profile_verdict([P, M]) is ProfileVerdict.INCOMPLETE
    assert profile_verdict([P, I]) is ProfileVerdict.INCOMPLETE
    assert profile_verdict([P, P], complete=False) is ProfileVerdict.INCOMPLETE


def test_a_may_under_a_declared_capability_binds_like_a_shall():
    from conformance.verdicts import is_binding

    assert is_binding("SHALL", None, P) and is_binding("SHALL", None, NA)
    assert is_binding("MAY", "event-feed", F)  # the capability was declared, so the checks ran
    assert not is_binding("MAY", "event-feed", NA)  # undeclared: the runner's gate made it not-applicable
    assert not is_binding("MAY", None, F)  # a MAY without a capability never binds
    assert not is_binding("SHOULD", "event-feed", F)

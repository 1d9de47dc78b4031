"""Approval workflows, declared once: stages, their roles and order. Stage screens,
permissions, the home page to-do counts and tests all read WORKFLOWS.

The state machine that moves an item through these stages lives in
models.approval_service (submit / approve / reject / resubmit)."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Stage:
    key: str
    name: str  # menu entry, exactly as SPEC §3
    role: str

    workflow: str = ""

    @property
    def endpoint(self) -> str:
        return f"{self.workflow}_stage_{self.key}"


@dataclass(frozen=True)
class Workflow:
    key: str
    label: str
    category: str  # menu category of the stage screens
    model_name: str  # class name in models
    stages: tuple[Stage, ...]

    def stage(self, key: str) -> Stage:
        for s in self.stages:
            if s.key == key:
                return s
        raise KeyError(key)

    def next_stage(self, key: str) -> Stage | None:
        keys = [s.key for s in self.stages]
        i = keys.index(key)
        return self.stages[i + 1] if i + 1 < len(self.stages) else None

    @property
    def model(self):
        import models

        return getattr(models, self.model_name)


def _workflow(key, label, category, model_name, *stages):
    return Workflow(key, label, category, model_name,
                    tuple(Stage(k, n, r, workflow=key) for k, n, r in stages))


WORKFLOWS: dict[str, Workflow] = {
    wf.key: wf
    for wf in (
        _workflow("inspection", "贷后检查", "贷后检查审核", "Inspection",
                  ("risk_check", "贷后检查风控检查", "risk_checker"),
                  ("risk_approve", "贷后检查风控审核", "risk_approver")),
        _workflow("classification", "五级分类调整", "五级分类审核", "ClassificationChange",
                  ("risk_review", "五级分类风控审查", "risk_checker"),
                  ("risk_approve", "五级分类风控审核", "risk_approver"),
                  ("final_review", "五级分类审查", "reviewer")),
        _workflow("writeoff", "不良贷款核销", "核销管理", "WriteOff",
                  ("risk_apply", "核销风控申请", "risk_checker"),
                  ("risk_approve", "核销风控审核", "risk_approver")),
        _workflow("reversal", "还款冲正", "基础数据", "RepaymentReversal",
                  ("risk_approve", "还款冲正审核", "risk_approver")),
        _workflow("extension", "展期申请", "展期审核", "ExtensionApplication",
                  ("risk_check", "展期风控审查", "risk_checker"),
                  ("risk_approve", "展期风控审核", "risk_approver")),
    )
}

"""SQLAlchemy models, one module per subject, plus the pure domain logic beside them."""
from admin_app.extensions import db  # noqa: F401

from .user import User, UserSession  # noqa: F401
from .customer import Customer, BankCard, CreditLine  # noqa: F401
from .product import LoanProduct  # noqa: F401
from .loan import Loan, Guarantor, Collateral, RateChange, Extension, Repayment, LoanEntry  # noqa: F401
from .schedule import Installment  # noqa: F401
from .review import (Interview, Inspection, ClassificationChange, WriteOff, ApprovalStep,  # noqa: F401
                     RepaymentReversal, ExtensionApplication)
from .collection import Collection, Receipt  # noqa: F401
from .warning import Warning, Setting, JobRun  # noqa: F401
from .audit import AuditLog  # noqa: F401
from .snapshot import (PortfolioSnapshot, SnapshotCohort, SnapshotMigration, SnapshotMonth,  # noqa: F401
                       SnapshotSummary)
from .portfolio_summary import PortfolioSummary  # noqa: F401
from .import_record import ImportRecord, ImportBalanceCheck  # noqa: F401
from .submission import FormSubmission  # noqa: F401
from .privacy import PiiAccess  # noqa: F401
from . import writeoff_book  # noqa: F401,E402  (核销台账 figures on WriteOff)
from .search import register as _register_search  # noqa: E402

_register_search(db.metadata)  # trigram search objects follow their tables (models.search)

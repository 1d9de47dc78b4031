"""Customers, their bank cards and credit lines."""
from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from admin_app.extensions import db
from .enums import CUSTOMER_TYPES
from .bounds import bound_check
from .privacy import mask_value, personal
from .types import Money


class Customer(db.Model):
    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="person")
    name: Mapped[str] = mapped_column(String(128), nullable=False, index=True, info=personal("name"))
    id_number: Mapped[str] = mapped_column(String(32), nullable=False, unique=True, info=personal("id_number"))
    phone: Mapped[str] = mapped_column(String(20), nullable=False, index=True, info=personal("phone"))
    contact_person: Mapped[str | None] = mapped_column(String(64), index=True, info=personal("name"))
    address: Mapped[str | None] = mapped_column(String(256), info=personal("address"))
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    # Set when the retention job anonymised the customer (services.retention).
    anonymised_on: Mapped[date | None] = mapped_column(Date)

    officer = relationship("User", lazy="joined")
    bank_cards = relationship("BankCard", back_populates="customer", lazy="select")

    @property
    def kind_label(self) -> str:
        return CUSTOMER_TYPES.get(self.kind, self.kind)

    def __str__(self) -> str:
        return f"{self.name}({self.id_number[-4:]})" if self.id_number else self.name


class BankCard(db.Model):
    __tablename__ = "bank_card"
    __table_args__ = (
        # At most one default card per customer; a card number once per customer.
        Index("uq_bank_card_default", "customer_id", unique=True,
              sqlite_where=db.text("is_default = 1"), postgresql_where=db.text("is_default")),
        Index("uq_bank_card_number", "customer_id", "card_number", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), nullable=False)
    bank_name: Mapped[str] = mapped_column(String(64), nullable=False)
    branch: Mapped[str | None] = mapped_column(String(128))
    account_name: Mapped[str] = mapped_column(String(128), nullable=False, info=personal("name"))
    card_number: Mapped[str] = mapped_column(String(32), nullable=False, index=True, info=personal("account"))
    is_default: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    note: Mapped[str | None] = mapped_column(Text)

    customer = relationship("Customer", back_populates="bank_cards", lazy="joined")

    @property
    def masked_number(self) -> str:
        return mask_value("account", self.card_number or "")

    def __str__(self) -> str:
        return f"{self.bank_name} {self.masked_number}"


class CreditLine(db.Model):
    __tablename__ = "credit_line"
    __table_args__ = (Index("ix_credit_line_expiry", "expiry_date"), bound_check("credit_line"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), nullable=False, index=True)
    amount = mapped_column(Money, nullable=False)
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    expiry_date: Mapped[date] = mapped_column(Date, nullable=False)

    customer = relationship("Customer", lazy="joined")

    def __str__(self) -> str:
        return f"{self.customer.name if self.customer else ''} 授信 {self.amount}"

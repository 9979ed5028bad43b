from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from tuangou.accounts import rules
from tuangou.accounts.models import MemberAddress, User
from tuangou.accounts.rules import PHONE_RE, mask_phone
from tuangou.core.schemas import In, Out

# A mainland mobile number, as the document declares it (the service checks it, with its own
# message).
Phone = Annotated[
    str, Field(examples=["13800138000"], json_schema_extra={"pattern": f"^{PHONE_RE.pattern}$"})
]


class Address(In):
    name: str = Field(min_length=1, max_length=32, examples=["李阿姨"])
    phone: Phone
    line: str = Field(min_length=1, max_length=200, examples=["幸福小区 3 栋 2 单元 501"])
    region: str = Field(
        default="", max_length=rules.ADDRESS_REGION_MAX, examples=["浙江省 杭州市 西湖区"]
    )


class AddressBookIn(In):
    """An entry of the address book (the service checks each field, with its own message)."""

    name: str = Field(max_length=rules.ADDRESS_NAME_MAX, examples=["李阿姨"])
    phone: Phone
    region: str = Field(
        max_length=rules.ADDRESS_REGION_MAX,
        description="province, city and district, as text",
        examples=["浙江省 杭州市 西湖区"],
    )
    detail: str = Field(max_length=rules.ADDRESS_DETAIL_MAX, examples=["幸福小区 3 栋 2 单元 501"])
    is_default: bool = Field(default=False, description="make it the default (preselected)")


class AddressBookOut(Out):
    id: int
    name: str
    phone: str
    region: str
    detail: str
    is_default: bool

    @classmethod
    def of(cls, a: MemberAddress) -> AddressBookOut:
        return cls.model_construct(
            id=a.id,
            name=a.name,
            phone=a.phone,
            region=a.region,
            detail=a.detail,
            is_default=a.is_default,
        )


class AddressDeletedOut(Out):
    deleted: bool


class SignupIn(In):
    phone: Phone
    password: str = Field(min_length=8, max_length=128)
    nickname: str = Field(default="", max_length=32)
    address: Address | None = None
    invite_code: str | None = Field(default=None, max_length=16)


class LoginIn(In):
    phone: str
    password: str


class CodeIn(In):
    phone: Phone


class CodeLoginIn(In):
    phone: Phone
    code: str = Field(min_length=4, max_length=8)
    nickname: str = Field(default="", max_length=32)


class ProfileIn(In):
    nickname: str | None = Field(default=None, max_length=32)
    address: Address | None = None


class UserOut(Out):
    id: int
    phone: str = Field(description="in full, or masked where others see it")
    nickname: str
    role: str
    supplier_id: int | None
    address: dict[str, Any] | None

    @classmethod
    def of(cls, user: User, *, full_phone: bool = True) -> UserOut:
        return cls.model_construct(
            id=user.id,
            phone=user.phone if full_phone else mask_phone(user.phone),
            nickname=user.nickname,
            role=user.role,
            supplier_id=user.supplier_id,
            address=user.address,
        )


class SessionOut(Out):
    """A bearer token, and whose it is."""

    token: str
    user: UserOut


class LoggedOutOut(Out):
    logged_out: bool


class CodeSentOut(Out):
    sent: bool

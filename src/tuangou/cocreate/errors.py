from enum import StrEnum

from tuangou.core.errors import Conflict, DomainError, Forbidden, NotFound


class CocreateErrorCode(StrEnum):
    ALREADY_VOTED = "already_voted"
    INVALID_PROPOSAL = "invalid_proposal"
    NOT_ELIGIBLE_TO_VOTE = "not_eligible_to_vote"
    NOT_VOTED = "not_voted"
    PROPOSAL_CLOSED = "proposal_closed"
    PROPOSAL_NOT_FOUND = "proposal_not_found"
    PROPOSAL_NOT_READY = "proposal_not_ready"
    PLEDGE_BELOW_MOQ = "pledge_below_moq"
    SUPPLIER_ALREADY_LINKED = "supplier_already_linked"
    SUPPLIER_LINK_NOT_FOUND = "supplier_link_not_found"
    SUPPLIER_NOT_LINKED = "supplier_not_linked"


class ProposalNotFound(NotFound):
    code = CocreateErrorCode.PROPOSAL_NOT_FOUND
    title = "No such proposal"


class InvalidProposal(DomainError):
    code = CocreateErrorCode.INVALID_PROPOSAL
    status = 422
    title = "The proposal is not valid"


class AlreadyVoted(Conflict):
    code = CocreateErrorCode.ALREADY_VOTED
    title = "You have already voted for this proposal"


class NotVoted(Conflict):
    code = CocreateErrorCode.NOT_VOTED
    title = "You have not voted for this proposal"


class ProposalClosed(Conflict):
    code = CocreateErrorCode.PROPOSAL_CLOSED
    title = "This proposal is closed"


class NotEligibleToVote(Forbidden):
    code = CocreateErrorCode.NOT_ELIGIBLE_TO_VOTE
    title = "You cannot vote yet"


class ProposalNotReady(Conflict):
    code = CocreateErrorCode.PROPOSAL_NOT_READY
    title = "This proposal has not reached its threshold"


class MoqAbovePledged(DomainError):
    code = CocreateErrorCode.PLEDGE_BELOW_MOQ
    status = 422
    title = "The minimum order is more than was pledged"


class SupplierNotLinked(Forbidden):
    code = CocreateErrorCode.SUPPLIER_NOT_LINKED
    title = "Your supplier is not linked to this community"


class SupplierAlreadyLinked(Conflict):
    code = CocreateErrorCode.SUPPLIER_ALREADY_LINKED
    title = "This supplier is already linked to the community"


class SupplierLinkNotFound(NotFound):
    code = CocreateErrorCode.SUPPLIER_LINK_NOT_FOUND
    title = "This supplier is not linked to the community"

from typing import TYPE_CHECKING, Annotated, TypedDict

from fastapi import Depends

from ncp_runtime import from_state

from .domain.transfer import Stage
from .web.context import Gateway
from .web.loading import Loaded, transfer_at

if TYPE_CHECKING:
    from .web.oauth2 import Emrex2


class State(TypedDict):
    gateway: Gateway
    emrex2: "Emrex2"


GatewayDep = Annotated[Gateway, Depends(from_state("gateway", Gateway))]


# The caller's transfer at the steps a route serves; otherwise a typed error that the app answers.
StartingDep = Annotated[Loaded, transfer_at(Stage.ENTERED, Stage.LOGIN)]
SelectingDep = Annotated[Loaded, transfer_at(Stage.SELECTING, Stage.PREVIEWED)]
PreviewedDep = Annotated[Loaded, transfer_at(Stage.PREVIEWED)]
OpenTransferDep = Annotated[Loaded, transfer_at(Stage.ENTERED, Stage.LOGIN, Stage.SELECTING, Stage.PREVIEWED)]

"""Customer states: partial defection (active / partial / lost) from transaction logs or contract histories,
multi-state estimation (Aalen-Johansen occupation, Nelson-Aalen transition hazards, time in state,
transition-specific Cox models) and the value of each state."""

from churnsurv.states.multistate import StateOccupation, fit_transition_cox, prob_lost_within
from churnsurv.states.transactions import (
    CustomerStates,
    assign_states,
    defection_sensitivity,
    spend_per_period,
    state_counts,
    states_from_contracts,
)
from churnsurv.states.value import recovery_value, state_revenue, transition_matrix

__all__ = [
    "CustomerStates",
    "StateOccupation",
    "assign_states",
    "defection_sensitivity",
    "fit_transition_cox",
    "prob_lost_within",
    "recovery_value",
    "spend_per_period",
    "state_counts",
    "state_revenue",
    "states_from_contracts",
    "transition_matrix",
]

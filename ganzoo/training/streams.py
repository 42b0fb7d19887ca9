"""The run's random streams: z and labels (``noise``), the augmentation's (``augment``), and torch's global
one (dropout, say), each process's seeded apart, all saved in checkpoints so a resumed run goes on as the
uninterrupted one would."""

from __future__ import annotations

from typing import Any

import torch


class NoiseStreams:
    def __init__(self, seed: int, rank: int, device: torch.device) -> None:
        self.noise = torch.Generator(device=device).manual_seed(seed * 100_003 + 104_729 * (rank + 1))
        self.augment = torch.Generator(device=device).manual_seed(seed * 7_919 + 15_485_863 * (rank + 1))

    def state_dict(self) -> dict[str, Any]:
        state = {"torch": torch.get_rng_state(), "noise": self.noise.get_state(), "augment": self.augment.get_state()}
        if torch.cuda.is_available():
            state["cuda"] = torch.cuda.get_rng_state_all()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        torch.set_rng_state(state["torch"])
        self.noise.set_state(state["noise"])
        if "augment" in state:
            self.augment.set_state(state["augment"])
        if "cuda" in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda"])

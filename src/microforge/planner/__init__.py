"""Memory planning: tensor lifetimes over the execution order and arena offsets.

``lifetimes.py`` finds which bytes must live when; ``greedy.py`` is TFLM's greedy-by-size planner
(for a fair, visible comparison); ``best_fit.py`` is microforge's tighter planner; ``plan.py`` holds
the result and checks that no two live buffers overlap.
"""

from microforge.planner.plan import ArenaPlan, Buffer, verify_plan

__all__ = ["ArenaPlan", "Buffer", "verify_plan"]

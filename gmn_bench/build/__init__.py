"""Building zoos: recipes that fix every sampled knob (:mod:`.recipes`), the crash-safe training
engine on a process pool or Ray (:mod:`.engine`) and vmapped training of same-shape networks
(:mod:`.grouped`)."""
from .engine import build_zoo
from .recipes import Recipe, RecipeError, load_recipe

__all__ = ["Recipe", "RecipeError", "build_zoo", "load_recipe"]

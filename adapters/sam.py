"""SAM and SAM 2 behind the adapter protocol, through their official packages.

The packages (``segment-anything``, ``sam2``) are the optional extra ``isbench[sam]``;
this module imports them only when a model is built, so ``isbench list`` and the core
install work without them. The official builder makes the network (random weights),
the released checkpoint is loaded strictly into it, and the official predictor
(``SamPredictor`` / ``SAM2ImagePredictor``) runs it: ``set_image`` runs the image
encoder once per image, every click runs only the prompt encoder and mask decoder.

SAM's interactive conventions are settings written into ``config.json``:

- ``multimask``: ``first`` (3 masks for the first click, the one of highest predicted
  IoU kept; one mask afterwards, as in the SAM paper's interactive simulation),
  ``always`` (3 masks every click, highest predicted IoU kept) or ``never``.
- ``mask_input``: ``logits`` (the kept mask's 256×256 low-resolution logits are fed
  back with the next click, as the SAM paper does) or ``none``.
- `SamMultiAdapter` (the ``*-batched`` names) segments all objects of an image at once:
  the objects whose clicks changed are decoded together, one batched decoder call per
  (number of clicks, has a mask prompt) group, from the one image embedding.
- SAM's mask is ``logit > mask_threshold`` (0); the adapter returns
  ``sigmoid(logit - mask_threshold)`` with ``threshold = 0.5`` so that the harness rule
  ``probability > threshold`` selects exactly the same pixels (see `logits_to_probs`).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from isbench.adapters.base import SingleInstanceAdapter
from isbench.adapters.fusion import ArgmaxFusion

from isbench.types import Click

__all__ = [
    "MASK_INPUTS",
    "MULTIMASK",
    "VARIANTS",
    "SamAdapter",
    "SamMultiAdapter",
    "Variant",
    "click_prompts",
    "logits_to_probs",
]

MULTIMASK = ("first", "always", "never")
MASK_INPUTS = ("logits", "none")

# The smallest float32 above 0.5: the probability of a pixel SAM keeps whose logit is
# so close to its threshold that float32 sigmoid rounds it to exactly 0.5.
_ABOVE_HALF = np.nextafter(np.float32(0.5), np.float32(1.0))


@dataclass(frozen=True)
class Variant:
    """One released configuration.

    family: "sam" (segment-anything) or "sam2" (sam2 package, SAM 2 and SAM 2.1).
    arch: the builder's name for it: a ``sam_model_registry`` key or a packaged sam2 config.
    checkpoint: the file name the official repository releases.
    """

    family: str
    arch: str
    checkpoint: str


VARIANTS: dict[str, Variant] = {
    "sam-vit-b": Variant("sam", "vit_b", "sam_vit_b_01ec64.pth"),
    "sam-vit-l": Variant("sam", "vit_l", "sam_vit_l_0b3195.pth"),
    "sam-vit-h": Variant("sam", "vit_h", "sam_vit_h_4b8939.pth"),
    **{
        f"{gen}-hiera-{size}": Variant("sam2", f"configs/{gen}/{gen}_hiera_{short}.yaml",
                                       f"{gen}_hiera_{size.replace('-', '_')}.pt")
        for gen in ("sam2", "sam2.1")
        for size, short in (("tiny", "t"), ("small", "s"), ("base-plus", "b+"), ("large", "l"))
    },
}

# family -> (import name, pip name)
_PACKAGES = {"sam": ("segment_anything", "segment-anything"), "sam2": ("sam2", "sam2")}


def _require(family: str, model: str) -> None:
    """Import the family's official package, or ValueError naming the pip extra."""
    module, pip_name = _PACKAGES[family]
    try:
        importlib.import_module(module)
    except ImportError:
        raise ValueError(
            f"model {model!r} needs the {pip_name} package: pip install \"isbench[sam]\""
        ) from None


def _read_state_dict(path: str, family: str, model: str) -> dict:
    """The weights of a released file: a plain state dict (SAM) or ``{"model": ...}`` (SAM 2)."""
    import torch

    if not Path(path).is_file():
        raise ValueError(f"checkpoint {path!r} not found (expected the official {model} file)")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the same user error
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise ValueError(f"checkpoint {path!r} is not a readable torch file ({reason})") from None
    if family == "sam2":
        if not isinstance(obj, dict) or not isinstance(obj.get("model"), dict):
            raise ValueError(f"checkpoint {path!r}: expected SAM 2's {{'model': state_dict}} file")
        obj = obj["model"]
    elif not isinstance(obj, dict) or "model" in obj:
        raise ValueError(f"checkpoint {path!r}: expected segment-anything's plain state dict")
    return obj


def _load_strict(net, state_dict: dict, path: str) -> None:
    """Load every key exactly; ValueError naming the first few mismatches otherwise."""
    own = net.state_dict()
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    if missing or unexpected:
        raise ValueError(f"checkpoint {path!r} does not match: missing {missing[:3]} "
                         f"({len(missing)}), unexpected {unexpected[:3]} ({len(unexpected)})")
    for key, value in state_dict.items():
        shape = tuple(getattr(value, "shape", ()))
        if shape != tuple(own[key].shape):
            raise ValueError(f"checkpoint {path!r}: {key} has shape {shape}, "
                             f"expected {tuple(own[key].shape)}")
    net.load_state_dict(state_dict, strict=True)


def _build_predictor(name: str, checkpoint: str, device: str):
    """The official predictor for variant ``name`` with ``checkpoint`` loaded strictly."""
    variant = VARIANTS[name]
    _require(variant.family, name)
    if variant.family == "sam":
        from segment_anything import SamPredictor, sam_model_registry

        net = sam_model_registry[variant.arch](checkpoint=None)
        wrap = SamPredictor
    else:
        from sam2.build_sam import build_sam2
        from sam2.sam2_image_predictor import SAM2ImagePredictor

        net = build_sam2(variant.arch, None, device="cpu")
        wrap = SAM2ImagePredictor
    _load_strict(net, _read_state_dict(checkpoint, variant.family, name), checkpoint)
    return wrap(net.to(device).eval())


def click_prompts(clicks: Sequence[Click]) -> tuple[np.ndarray, np.ndarray]:
    """SAM's ``point_coords`` (N, 2) float32 in (x, y) pixel order and ``point_labels`` (N,) int."""
    # The one place where isbench's (y, x) clicks become SAM's (x, y) points.
    coords = np.array([[c.x, c.y] for c in clicks], dtype=np.float32).reshape(-1, 2)
    labels = np.array([1 if c.positive else 0 for c in clicks], dtype=np.int64)
    return coords, labels


def logits_to_probs(logits: np.ndarray) -> np.ndarray:
    """sigmoid(logits) as float32, with ``prob > 0.5`` exactly where ``logits > 0``.

    float32 sigmoid rounds logits within about 3e-8 of 0 to exactly 0.5; those with a
    positive logit are lifted to the next float32 above 0.5, so the harness threshold 0.5
    (``prob > threshold``) reproduces SAM's ``logit > 0`` mask bit for bit.
    """
    logits = np.asarray(logits, dtype=np.float32)
    probs = (0.5 * (1.0 + np.tanh(0.5 * logits))).astype(np.float32)
    return np.where(logits > 0, np.maximum(probs, _ABOVE_HALF), np.minimum(probs, 0.5))


class SamAdapter(SingleInstanceAdapter):
    """SAM or SAM 2 as a single-instance model (see the module docstring for the settings).

    variant: a key of `VARIANTS`. checkpoint: the released weights file. multimask: one
    of `MULTIMASK`. mask_input: one of `MASK_INPUTS`. device: torch device string.
    The kept mask's low-resolution logits live in ``object_state`` (one object's state),
    so `ArgmaxFusion` can refine several objects with one image embedding.
    """

    threshold = 0.5

    def __init__(self, variant: str, checkpoint: str, multimask: str = "first",
                 mask_input: str = "logits", device: str = "cpu"):
        if variant not in VARIANTS:
            raise ValueError(f"SAM variant {variant!r}: expected one of {', '.join(VARIANTS)}")
        if multimask not in MULTIMASK:
            raise ValueError(f"{variant}: multimask {multimask!r}: expected one of "
                             f"{', '.join(MULTIMASK)}")
        if mask_input not in MASK_INPUTS:
            raise ValueError(f"{variant}: mask_input {mask_input!r}: expected one of "
                             f"{', '.join(MASK_INPUTS)}")
        self.variant, self.checkpoint = variant, str(checkpoint)
        self.multimask, self.mask_input, self.device = multimask, mask_input, str(device)
        self.predictor = _build_predictor(variant, self.checkpoint, self.device)
        # SAM2ImagePredictor holds the logit threshold; SamPredictor leaves it on the model.
        thr = getattr(self.predictor, "mask_threshold", None)
        self.mask_threshold = float(self.predictor.model.mask_threshold if thr is None else thr)
        self.object_state: dict = {}
        self._image_hw: tuple[int, int] | None = None

    @property
    def info(self) -> dict:
        from importlib.metadata import PackageNotFoundError, version

        variant = VARIANTS[self.variant]
        pip_name = _PACKAGES[variant.family][1]
        try:
            package = f"{pip_name}=={version(pip_name)}"
        except PackageNotFoundError:
            package = None
        return {
            **super().info,
            "variant": self.variant,
            "checkpoint": self.checkpoint,
            "released_file": variant.checkpoint,
            "package": package,
            "builder": (f"sam_model_registry[{variant.arch!r}]" if variant.family == "sam" else
                        f"build_sam2({variant.arch!r}) with its default postprocessing"),
            "predictor": type(self.predictor).__name__,
            "multimask": self.multimask,
            "mask_input": self.mask_input,
            "mask_threshold_logit": self.mask_threshold,
            "probability": "sigmoid(logit - mask_threshold), threshold 0.5",
            "device": self.device,
        }

    def set_image(self, image: np.ndarray) -> None:
        """Run the image encoder on (H, W, 3) uint8 RGB and cache the embedding."""
        self.predictor.set_image(image)
        self._image_hw = image.shape[:2]
        self.object_state = {}

    def uses_multimask(self, num_clicks: int) -> bool:
        """Whether the decoder returns 3 masks for a prompt of ``num_clicks`` clicks."""
        return self.multimask == "always" or (self.multimask == "first" and num_clicks == 1)

    def decode(self, coords: np.ndarray, labels: np.ndarray, mask_in: np.ndarray | None,
               multimask: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One batched prompt-encoder + mask-decoder call on the cached embedding.

        coords: (B, N, 2) float32 (x, y) pixels; labels: (B, N) 1/0; mask_in: (B, 1, 256,
        256) float32 logits or None. Returns logits (B, C, H, W), predicted IoUs (B, C) and
        low-resolution logits (B, C, 256, 256), all float32, C = 3 if ``multimask`` else 1.
        """
        if self._image_hw is None:
            raise RuntimeError("set_image must be called before predict")
        if VARIANTS[self.variant].family == "sam":
            import torch

            pts = self.predictor.transform.apply_coords(coords, self.predictor.original_size)
            dev = self.predictor.device
            out = self.predictor.predict_torch(
                torch.as_tensor(pts, dtype=torch.float, device=dev),
                torch.as_tensor(labels, dtype=torch.int, device=dev),
                mask_input=(None if mask_in is None
                            else torch.as_tensor(mask_in, dtype=torch.float, device=dev)),
                multimask_output=multimask, return_logits=True)
            logits, scores, low = (t.float().cpu().numpy() for t in out)
        else:
            logits, scores, low = self.predictor.predict(
                coords, labels, mask_input=mask_in, multimask_output=multimask,
                return_logits=True)
        b = len(coords)  # SAM2ImagePredictor drops the batch axis when B == 1
        return (logits.reshape(b, -1, *self._image_hw), scores.reshape(b, -1),
                low.reshape(b, -1, *low.shape[-2:]))

    def keep(self, logits: np.ndarray, scores: np.ndarray, low: np.ndarray,
             state: dict) -> np.ndarray:
        """Keep one of C decoded masks (highest predicted IoU), store its low-res logits in
        ``state`` and return its (H, W) float32 probabilities. Shapes as `decode` for one item.
        """
        k = int(np.argmax(scores)) if len(scores) > 1 else 0
        state["low_res_logits"] = low[k]
        return logits_to_probs(logits[k] - self.mask_threshold)

    def prompt_mask(self, state: dict) -> np.ndarray | None:
        """The (1, 256, 256) mask prompt for an object's next click, or None."""
        prev = state.get("low_res_logits")
        return None if self.mask_input == "none" or prev is None else prev[None]

    def predict(self, clicks: Sequence[Click], prev_mask: np.ndarray | None) -> np.ndarray:
        """(H, W) float32 probabilities for the object the clicks describe.

        ``prev_mask`` is not used: the previous prompt is SAM's own low-resolution logits,
        kept in ``object_state``.
        """
        coords, labels = click_prompts(clicks)
        mask_in = self.prompt_mask(self.object_state)
        logits, scores, low = self.decode(coords[None], labels[None],
                                          None if mask_in is None else mask_in[None],
                                          self.uses_multimask(len(clicks)))
        return self.keep(logits[0], scores[0], low[0], self.object_state)


class SamMultiAdapter(ArgmaxFusion):
    """SAM or SAM 2 as a multi-instance model with batched decoding.

    Same click policies, caching and argmax fusion as `ArgmaxFusion` (``clicks``:
    ``shared`` by default, every object sees every click, positive only on its own
    pixels; ``fuse``: ``every-click`` by default), but the objects to re-predict are
    decoded in batches: one decoder call per (number of clicks, with/without mask
    prompt) group, which is one call per click in MIST. Other arguments as `SamAdapter`.
    """

    def __init__(self, variant: str, checkpoint: str, multimask: str = "first",
                 mask_input: str = "logits", clicks: str = "shared", fuse: str = "every-click",
                 device: str = "cpu"):
        super().__init__(SamAdapter(variant, checkpoint, multimask, mask_input, device),
                         clicks, fuse)

    @property
    def info(self) -> dict:
        return {**super().info, "batched_decoding": True}

    def predict(self, clicks: Sequence[Click], num_objects: int) -> np.ndarray:
        """(num_objects, H, W) float32 probabilities; objects never clicked stay 0."""
        out = np.zeros((num_objects, *self._shape), dtype=np.float32)
        groups: dict[tuple[int, bool], list] = {}
        for obj in range(num_objects):
            seen = self.object_clicks(clicks, obj)
            cached = self._objects.get(obj)
            if not seen or (cached is not None and cached[0] == seen):
                out[obj] = 0.0 if cached is None else cached[1]
                continue
            state = {} if cached is None else cached[2]
            mask_in = self.model.prompt_mask(state)
            groups.setdefault((len(seen), mask_in is None), []).append((obj, seen, state, mask_in))
        for (n, no_mask), items in groups.items():
            coords, labels = zip(*(click_prompts(seen) for _, seen, _, _ in items))
            mask_in = None if no_mask else np.stack([m for *_, m in items])
            logits, scores, low = self.model.decode(np.stack(coords), np.stack(labels), mask_in,
                                                    self.model.uses_multimask(n))
            for b, (obj, seen, state, _) in enumerate(items):
                out[obj] = self.model.keep(logits[b], scores[b], low[b], state)
                self._objects[obj] = (seen, out[obj].copy(), state)
        return out

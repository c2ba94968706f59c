"""The ``hf`` backend: a transformers image-text-to-text model (Qwen2-VL, Qwen2.5-VL, Qwen3-VL) and its processor.

bf16 weights, the vision tower frozen by default, gradient checkpointing, an
optional LoRA adapter (peft) and an optional frozen reference for β·KL
(docs/method.md §6). The optimizer side (plain PyTorch or DeepSpeed ZeRO-2/3) lives in
policy/hf_engine.py. transformers, PIL, peft and DeepSpeed are imported only
here, when the backend is chosen: the CI image has none of them, and this
path is exercised by docker/trainer/gpu-check.sh on a GPU, not by the tests.
"""
from __future__ import annotations

import io
import itertools
import logging
import os
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import torch

from ..comm import Comm
from ..config import TrainerConfig
from .base import Policy, Prompt
from .hf_engine import create_engine, is_zero3

log = logging.getLogger('differad_trainer')
LORA_TARGETS = r'^(?!.*visual).*\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)$'
DTYPES = {'bf16': torch.bfloat16, 'fp16': torch.float16, 'fp32': torch.float32}


def _load_model(config: TrainerConfig, dtype: torch.dtype):
    from transformers import AutoModelForImageTextToText

    # transformers >= 4.56 takes dtype= (torch_dtype= is deprecated in v5)
    return AutoModelForImageTextToText.from_pretrained(config.model, dtype=dtype, attn_implementation=config.attn_implementation)


#: Processor outputs with one value per prompt token (shape [1, P]) and the value a completion or
#: padding token takes. ``mm_token_type_ids`` (transformers >= 5.3; ProcessorMixin.create_mm_token_type_ids
#: in transformers/processing_utils.py, requested by the Qwen2-VL, Qwen2.5-VL and Qwen3-VL processors'
#: ``return_mm_token_type_ids: True`` default) is 0 text, 1 image, 2 video, 3 audio; the models'
#: get_rope_index (models/qwen2_5_vl/modeling_qwen2_5_vl.py) reads it as [batch, sequence] next to
#: input_ids to place the 3-D rope positions, and without it falls back to 1-D text positions. The
#: sampled completion is text: 0. ``token_type_ids``: a tokenizer's segment ids, 0 likewise.
PER_TOKEN_INPUTS = {'mm_token_type_ids': 0, 'token_type_ids': 0}
#: Processor outputs per image or video, concatenated over the batch in order (the models split
#: pixel features by image_grid_thw and walk one iterator of grids over every row of the batch).
PER_ITEM_INPUTS = {'pixel_values', 'image_grid_thw', 'pixel_values_videos', 'video_grid_thw', 'second_per_grid_ts'}


def batch_prompt_inputs(inputs: Dict[str, Any], prompt_len: int, rows: int, row_len: int) -> Dict[str, Any]:
    """One prompt's processor outputs (less input_ids and attention_mask) for ``rows`` sequences of
    ``row_len`` tokens (the prompt, then a completion, then padding): per-token outputs extended to
    [rows, row_len] with their completion value, per-image outputs repeated once per row. An unknown
    output shaped like a per-token one ([1, P]) is refused: batching it blindly would crash or
    silently misplace positions."""
    out: Dict[str, Any] = {}
    for k, v in inputs.items():
        if not torch.is_tensor(v):
            out[k] = v
        elif k in PER_TOKEN_INPUTS:
            if tuple(v.shape) != (1, prompt_len):
                raise ValueError(f'processor output {k} has shape {tuple(v.shape)}, expected (1, {prompt_len}): one value per prompt token')
            tail = torch.full((1, row_len - prompt_len), PER_TOKEN_INPUTS[k], dtype=v.dtype, device=v.device)
            out[k] = torch.cat([v, tail], dim=1).repeat(rows, 1)
        elif k not in PER_ITEM_INPUTS and v.dim() == 2 and tuple(v.shape) == (1, prompt_len):
            raise ValueError(f'processor output {k} has one value per prompt token and no known value for completion tokens '
                             '(differad_trainer/policy/hf.py PER_TOKEN_INPUTS)')
        else:
            out[k] = torch.cat([v] * rows)
    return out


#: transformers releases whose Qwen2.5-VL get_rope_index scales still images' temporal positions by
#: tokens_per_second (shifting every position after an image); 5.5.4 fixed it ("Only apply temporal
#: scaling for videos", transformers#45325: models/qwen2_5_vl/modeling_qwen2_5_vl.py). vLLM computes
#: the right positions, so the trainer would score what the server never saw.
BROKEN_QWEN2_5_VL_ROPE = ((5, 4, 0), (5, 5, 3))


def _release(version: str) -> Tuple[int, ...]:
    parts = []
    for piece in version.split('.')[:3]:
        digits = ''.join(itertools.takewhile(str.isdigit, piece))
        parts.append(int(digits or 0))
    return tuple(parts + [0] * (3 - len(parts)))


def check_transformers_version(version: str, model_type: str) -> None:
    """Refuses a transformers release known to compute wrong positions for this model."""
    low, high = BROKEN_QWEN2_5_VL_ROPE
    if model_type == 'qwen2_5_vl' and low <= _release(version) <= high:
        raise RuntimeError(f'transformers {version} shifts Qwen2.5-VL still-image rope positions (fixed in 5.5.4): '
                           'install the version pinned in docker/trainer/requirements.txt')


def _load_reference(config: TrainerConfig, dtype: torch.dtype, device: torch.device):
    """The frozen π_ref (docs/method.md §6): whole, on this rank's device, never ZeRO-3-partitioned."""
    from transformers.integrations import is_deepspeed_zero3_enabled

    if is_deepspeed_zero3_enabled():
        raise RuntimeError('the reference model must load outside the ZeRO-3 context (an HfDeepSpeedConfig is alive)')
    return _load_model(config, dtype).to(device).eval().requires_grad_(False)


def to_hf_conversation(messages: Sequence[dict], images: Sequence[bytes]) -> Tuple[List[dict], List[Any]]:
    """API chat messages → the processor's conversation and the PIL images in order of appearance
    (the order vLLM feeds them: docs/method.md §7, reference first)."""
    conversation, pil = [], []
    for m in messages:
        if isinstance(m['content'], str):
            conversation.append({'role': m['role'], 'content': m['content']})
            continue
        parts = []
        for p in m['content']:
            if p['type'] == 'text':
                parts.append({'type': 'text', 'text': p['text']})
            else:
                from PIL import Image

                parts.append({'type': 'image'})
                pil.append(Image.open(io.BytesIO(images[p['image']])).convert('RGB'))
        conversation.append({'role': m['role'], 'content': parts})
    return conversation, pil


class HfPolicy(Policy):
    backend = 'hf'

    def __init__(self, config: TrainerConfig, comm: Comm) -> None:
        try:
            import transformers
            from transformers import AutoProcessor
        except ImportError as e:
            raise RuntimeError('the hf backend needs transformers, torch with CUDA and pillow: use the docker/trainer image '
                               f'(pip install -r docker/trainer/requirements.txt); {e}') from e
        self.comm = comm
        self.config = config
        self.model_name = config.model
        self.chunk_size = config.forward_chunk
        self.device = torch.device('cuda', int(os.environ.get('LOCAL_RANK', '0'))) if torch.cuda.is_available() else torch.device('cpu')
        dtype = DTYPES[config.dtype]
        self.processor = AutoProcessor.from_pretrained(config.model, min_pixels=config.min_pixels, max_pixels=config.max_pixels)
        ds_config = self._deepspeed_config()
        # The frozen reference first, while no HfDeepSpeedConfig is alive: transformers' from_pretrained
        # loads under deepspeed.zero.Init whenever is_deepspeed_zero3_enabled() (a weakref to the live
        # HfDeepSpeedConfig: transformers/integrations/deepspeed.py; modeling_utils.py
        # get_init_context), and a ZeRO-3-partitioned reference that no DeepSpeed engine owns has
        # empty parameters outside GatheredParameters (deepspeed/runtime/zero/partition_parameters.py),
        # so β > 0 broke. It is a full copy on every GPU (2 bytes per parameter in bf16).
        self.reference = None
        if config.keeps_reference:
            self.reference = _load_reference(config, dtype, self.device)
        keep_alive = None
        if ds_config is not None and is_zero3(ds_config):
            from transformers.integrations import HfDeepSpeedConfig

            keep_alive = HfDeepSpeedConfig(ds_config)  # from_pretrained loads straight into ZeRO-3 partitions
        model = _load_model(config, dtype)
        self._hf_ds_config = keep_alive
        check_transformers_version(getattr(transformers, '__version__', '0'), getattr(model.config, 'model_type', ''))
        if config.freeze_vision:
            frozen = 0
            for name, p in model.named_parameters():
                if '.visual.' in f'.{name}':
                    p.requires_grad_(False)
                    frozen += 1
            log.info('vision tower frozen: %d tensors', frozen)
        if config.gradient_checkpointing:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={'use_reentrant': False})
            model.config.use_cache = False
        self.lora = config.lora_rank > 0
        if self.lora:
            from peft import LoraConfig, get_peft_model

            model = get_peft_model(model, LoraConfig(r=config.lora_rank, lora_alpha=config.lora_alpha, lora_dropout=0.0, target_modules=LORA_TARGETS))
        self.engine = create_engine(model, config, comm, ds_config, self.device)
        self.averages_gradients = self.engine.averages_gradients
        text = getattr(model.config, 'text_config', model.config)
        self.max_positions = getattr(text, 'max_position_embeddings', 32768)
        self.vocab = model.get_input_embeddings().num_embeddings

    def _deepspeed_config(self) -> Optional[Dict[str, Any]]:
        path = self.config.deepspeed_config
        if not path:
            return None
        try:
            import deepspeed  # noqa: F401
        except ImportError:
            log.warning('DIFFERAD_TRAINER_DEEPSPEED_CONFIG is set but deepspeed is not installed: plain PyTorch')
            return None
        import json

        with open(path, encoding='utf-8') as f:
            ds = json.load(f)
        # One engine "micro-batch" per backward; accumulation over API micro-batches is ours (scoring.py).
        ds.update(train_micro_batch_size_per_gpu=1, gradient_accumulation_steps=1)
        ds.setdefault('bf16', {'enabled': self.config.dtype == 'bf16'})
        return ds

    @property
    def has_reference(self) -> bool:
        return self.reference is not None

    def encode_prompt(self, messages: Sequence[dict], images: Sequence[bytes]) -> Prompt:
        """The chat template with the generation prompt, images expanded to their patch tokens:
        what vLLM builds for the same messages with the same processor and pixel bounds."""
        conversation, pil = to_hf_conversation(messages, images)
        text = self.processor.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True)
        inputs = self.processor(text=[text], images=pil or None, return_tensors='pt')
        extras = {k: v for k, v in inputs.items() if k not in ('input_ids', 'attention_mask')}
        return Prompt(ids=inputs['input_ids'][0].tolist(), inputs=extras)

    def is_scorable(self, prompt: Prompt, token_ids: Sequence[int]) -> bool:
        return len(prompt.ids) + len(token_ids) <= self.max_positions and all(t < self.vocab for t in token_ids)

    def completion_logprobs(self, prompt: Prompt, completions: Sequence[Sequence[int]], temperature: float,
                            reference: bool = False) -> List[torch.Tensor]:
        model = self.reference if reference else self.engine.forward_module
        longest = max(len(c) for c in completions)
        pad = self.processor.tokenizer.pad_token_id or 0
        rows = [list(prompt.ids) + list(c) + [pad] * (longest - len(c)) for c in completions]
        ids = torch.tensor(rows, dtype=torch.long, device=self.device)
        mask = torch.tensor([[1] * (len(prompt.ids) + len(c)) + [0] * (longest - len(c)) for c in completions], device=self.device)
        extras = {k: v.to(self.device) if torch.is_tensor(v) else v
                  for k, v in batch_prompt_inputs(prompt.inputs, len(prompt.ids), len(completions), ids.shape[1]).items()}
        with torch.set_grad_enabled(not reference and torch.is_grad_enabled()):
            try:  # only the completion positions reach the vocabulary projection
                out = model(input_ids=ids, attention_mask=mask, use_cache=False, logits_to_keep=longest + 1, **extras)
                logits = out.logits[:, :-1]
            except TypeError:
                out = model(input_ids=ids, attention_mask=mask, use_cache=False, **extras)
                logits = out.logits[:, len(prompt.ids) - 1:-1]
            logp = torch.log_softmax(logits.float() / temperature, dim=-1)
            picked = logp.gather(-1, ids[:, len(prompt.ids):].unsqueeze(-1)).squeeze(-1)
        return [picked[i, : len(c)] for i, c in enumerate(completions)]

    def backward(self, loss: torch.Tensor, boundary: bool) -> None:
        self.engine.backward(loss, boundary)

    def optimizer_step(self, lr: float, max_grad_norm: Optional[float]) -> float:
        return self.engine.step(lr, max_grad_norm)

    def zero_grad(self) -> None:
        self.engine.zero_grad()

    def checkpoint_state(self) -> Dict[str, Any]:
        return {'backend': self.backend, 'model_id': self.config.model, **self.engine.state()}

    def restore_checkpoint_state(self, state: Dict[str, Any]) -> None:
        if state.get('backend') != self.backend:
            raise ValueError(f"a {state.get('backend')} checkpoint does not fit the hf backend")
        self.engine.restore(state)

    def save_checkpoint(self, path: str, meta: Dict[str, Any]) -> None:
        if self.engine.saves_itself:
            self.engine.save(path, {**meta, 'backend': self.backend, 'model_id': self.config.model})
        else:
            super().save_checkpoint(path, meta)

    def load_checkpoint(self, path: str) -> Dict[str, Any]:
        if self.engine.saves_itself:
            return self.engine.load(path)
        return super().load_checkpoint(path)

    def named_weights(self) -> Iterator[Tuple[str, torch.Tensor]]:
        self._full_weights_only()
        return self.engine.named_weights()

    def export_weights(self, directory: Optional[str]) -> None:
        self._full_weights_only()
        self.engine.export(directory, self.processor, adapter_only=False)

    def export_lora(self, directory: Optional[str]) -> None:
        if not self.lora:
            super().export_lora(directory)
        self.engine.export(directory, None, adapter_only=True)

    def _full_weights_only(self) -> None:
        if self.lora:
            from ..errors import TrainerError

            raise TrainerError('TRAINER_BACKEND_UNSUPPORTED', 'this trainer trains a LoRA adapter: send weights with backend "lora"')

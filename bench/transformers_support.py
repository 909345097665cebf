"""What the GPU comparison scripts share about driving transformers (imported, not run).

transformers is imported inside the functions, so that the scripts' other parts run
where it is not installed.
"""
import inspect


def load_model(path, dtype, device, attn_implementation="sdpa"):
    """A checkpoint on `device` in `dtype`, in eval mode. Loads straight to the device
    where transformers can (device_map needs the accelerate package), else through host
    memory."""
    from transformers import AutoModelForCausalLM
    kwargs = dict(dtype=dtype, attn_implementation=attn_implementation)
    try:
        model = AutoModelForCausalLM.from_pretrained(path, device_map=device, **kwargs)
    except (ImportError, ValueError) as e:
        if "accelerate" not in str(e):
            raise
        model = AutoModelForCausalLM.from_pretrained(path, **kwargs).to(device)
    return model.eval()


def set_attention(model, implementation):
    """Switches a loaded model's attention ("sdpa", "eager")."""
    if hasattr(model, "set_attn_implementation"):
        model.set_attn_implementation(implementation)
    else:
        model.config._attn_implementation = implementation


def forward_last(model, keep, **inputs):
    """model(**inputs) computing logits for the last `keep` positions only (logits_to_keep,
    so that the vocabulary projection of a long prompt costs nothing); returns the output
    and those logits as float32 [keep, vocab]. A model without logits_to_keep computes
    every position's logits (the caller can see it in out.logits.shape)."""
    if "logits_to_keep" in inspect.signature(model.forward).parameters:
        out = model(logits_to_keep=keep, **inputs)
    else:
        out = model(**inputs)
    return out, out.logits[0, -keep:].float()

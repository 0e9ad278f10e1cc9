"""Stage plans and networks of the five growing CNN GANs (thesis table 1, tables 2 to 15).

A *plan* is one `Stage` per training stage: latent size, output resolution, the channel width of every resolution
block (4x4 first), and the resolution of the real images' detail. The networks of a stage are built from the plan;
``stage - 1`` of the same plan says which part of every layer is carried over and which is new (faded by beta),
and which layers are new altogether (faded by alpha). Layers keep their names across stages, so growth copies
every weight by name into the leading slice of the grown one.

Widths (C_i = C_0 / 2^i is the final width of block i, C_0 = ``base_channels``, the thesis' 256):

* ``fixed`` (bGAN, bgGAN, lgGAN): C_i at every stage (tables 2, 3, 6 to 9).
* ``capped`` (cgGAN, tables 4, 5): ``min(C_0 z_s / z_end, C_i)``: every layer grows with the latent until it
  reaches its final width.
* ``scaled`` (clgGAN, tables 10 to 15): ``C_0 z_s / z_end / 2^i``: every block doubles at each stage and the
  newest block starts at C_0 z_start / z_end / 2^(n-1).

Generator: g1 latent -> 4x4 (`LatentProject`), g2 conv3x3; per doubling: upsample, conv3x3 to C_i, conv3x3; toRGB
1x1 + tanh. Critic, mirrored: fromRGB 1x1 + LReLU; per halving: conv3x3, conv3x3 to C_{i-1}, avgpool; at 4x4:
minibatch std, d3 conv3x3, d2 conv4x4 'valid', d1 linear.
"""
from __future__ import annotations

import dataclasses

import keras
from keras import layers

from zoo.growing.layers import AlphaBlend, FadeConv2D, LatentProject, MinibatchStd
from zoo.shapes import check_image_size


@dataclasses.dataclass(frozen=True)
class Strategy:
    """What a model grows (thesis table 1)."""

    latent: bool  # the latent size doubles per stage
    channels: str  # "fixed" | "capped" | "scaled" (module docstring)
    layers: bool  # resolution blocks are added per stage (lgGAN, clgGAN)
    blur: bool  # real images blurred to a resolution tied to the latent size (bgGAN, cgGAN; 6.2.7, figure 4)


STRATEGIES = {
    "bgan": Strategy(latent=False, channels="fixed", layers=False, blur=False),
    "bggan": Strategy(latent=True, channels="fixed", layers=False, blur=True),
    "cggan": Strategy(latent=True, channels="capped", layers=False, blur=True),
    "lggan": Strategy(latent=False, channels="fixed", layers=True, blur=False),
    "clggan": Strategy(latent=True, channels="scaled", layers=True, blur=False),
}


@dataclasses.dataclass(frozen=True)
class Stage:
    latent: int
    resolution: int  # of the networks' images
    widths: tuple  # channels of each resolution block, 4x4 first
    real_resolution: int  # detail kept in the real images (blur level; = resolution for layer growth)


def _power_of_two(n) -> bool:
    return int(n) >= 1 and int(n) & (int(n) - 1) == 0


def make_plan(kind, image_size, latent_start, latent_end, base_channels=None) -> tuple:
    """The stages of model `kind`; raises, naming the valid choices, when the sizes do not fit."""
    strat = STRATEGIES[kind]
    n_res = check_image_size(image_size, minimum=4) - 1  # 4x4 is one block
    base = int(base_channels or latent_end)
    if not _power_of_two(latent_end) or base % 2 ** (n_res - 1):
        raise ValueError(f"{kind}: latent_end must be a power of two and base_channels divisible by "
                         f"2^{n_res - 1} (image_size {image_size} has {n_res} blocks); got latent_end={latent_end}, "
                         f"base_channels={base}.")
    final = [base >> i for i in range(n_res)]
    if not strat.latent:
        if latent_start not in (None, latent_end):
            raise ValueError(f"{kind} does not grow its latent: leave latent_start unset or equal to latent_end "
                             f"({latent_end}); got {latent_start}.")
        latents = [int(latent_end)] * (n_res if strat.layers else 1)
    else:
        start = int(latent_start or latent_end >> (n_res - 1))
        if not _power_of_two(start) or start >= latent_end:
            raise ValueError(f"{kind}: latent_start must be a power of two below latent_end={latent_end}; got "
                             f"{latent_start}.")
        latents = []
        while start <= latent_end:
            latents.append(start)
            start *= 2
        n = len(latents)
        if (strat.layers and n != n_res) or (strat.blur and n > n_res):
            valid = ", ".join(f"({latent_end >> k}, {latent_end})" for k in range(1, n_res) if
                              (not strat.layers or k == n_res - 1) and latent_end >> k >= 1)
            rule = (f"exactly {n_res} stages, one per resolution 4..{image_size}" if strat.layers else
                    f"at most {n_res} stages, one per blur level 4..{image_size}")
            raise ValueError(f"{kind}: latent schedule {latents[0]}..{latent_end} has {n} stages but image_size "
                             f"{image_size} allows {rule}. Valid (latent_start, latent_end): {valid}.")
    stages = []
    for s, z in enumerate(latents):
        blocks = s + 1 if strat.layers else n_res
        grown = base * z // latent_end
        if strat.channels == "fixed":
            widths = final[:blocks]
        elif strat.channels == "capped":
            widths = [min(grown, c) for c in final]
        else:
            widths = [grown >> i for i in range(blocks)]
        if min(widths) < 1 or base * z % latent_end:
            raise ValueError(f"{kind}: base_channels={base} is too small for latent {z}/{latent_end} at "
                             f"{4 << (blocks - 1)}x{4 << (blocks - 1)}; use base_channels >= "
                             f"{latent_end * 2 ** (blocks - 1) // z}.")
        resolution = 4 << (blocks - 1)
        real = max(4, image_size >> (len(latents) - 1 - s)) if strat.blur else resolution
        stages.append(Stage(int(z), resolution, tuple(int(w) for w in widths), int(real)))
    return tuple(stages)


def _carried(plan, stage):
    """``old(i)``: block i's width at the previous stage, or None when the block is new (or there is no growth)."""
    prev = plan[stage - 1].widths if stage > 0 else None
    return lambda i: prev[i] if prev is not None and i < len(prev) else None


def _grew_layers(plan, stage) -> bool:
    return stage > 0 and len(plan[stage].widths) > len(plan[stage - 1].widths)


def _masks(plan, stage, fade_channels):
    """``old(i)`` for the fading layers' carried blocks: `_carried`, or, when new channels do not fade in (they
    start as copies, ``channel_growth="copy"``), None everywhere, so that no layer multiplies a mask in its step."""
    return _carried(plan, stage) if fade_channels else (lambda i: None)


def build_generator(plan, stage, channels, name="generator", fade_channels=True) -> keras.Model:
    """The generator of `stage`; at a layer-growth stage it blends upsampled old toRGB with the new block."""
    st, old = plan[stage], _masks(plan, stage, fade_channels)
    w, last = st.widths, len(st.widths) - 1
    new_block = _grew_layers(plan, stage)
    z = keras.Input((st.latent,), name="latent")
    x = LatentProject(w[0], old_in=plan[stage - 1].latent if stage and fade_channels else None, old_out=old(0),
                      name="g4_project")(z)
    x = FadeConv2D(w[0], 3, old_in=old(0), old_out=old(0), name="g4_conv")(x)
    before_last = x
    for i in range(1, len(w)):
        before_last, r = x, 4 << i
        fresh = new_block and i == last
        x = layers.UpSampling2D(2, name=f"g{r}_up")(x)
        x = FadeConv2D(w[i], 3, old_in=None if fresh else old(i - 1), old_out=None if fresh else old(i),
                       name=f"g{r}_conv1")(x)
        x = FadeConv2D(w[i], 3, old_in=None if fresh else old(i), old_out=None if fresh else old(i),
                       name=f"g{r}_conv2")(x)
    rgb = FadeConv2D(channels, 1, old_in=None if new_block else old(last), activation="tanh", dtype="float32",
                     name=f"g_torgb{st.resolution}")(x)
    if new_block:  # thesis figure 6a: (1 - alpha) * upsample(toRGB_old(h)) + alpha * toRGB_new(block(h))
        prev_rgb = FadeConv2D(channels, 1, old_in=plan[stage - 1].widths[-1] if fade_channels else None,
                              activation="tanh", dtype="float32", name=f"g_torgb{st.resolution // 2}")(before_last)
        prev_rgb = layers.UpSampling2D(2, name="g_rgb_up")(prev_rgb)
        rgb = AlphaBlend(dtype="float32", name="g_blend")([prev_rgb, rgb])
    return keras.Model(z, rgb, name=name)


def build_discriminator(plan, stage, channels, name="discriminator", fade_channels=True) -> keras.Model:
    """The critic of `stage`; at a layer-growth stage it blends the new block with fromRGB_old(avgpool(x))."""
    st, old, carried = plan[stage], _masks(plan, stage, fade_channels), _carried(plan, stage)
    w, last = st.widths, len(st.widths) - 1
    new_block = _grew_layers(plan, stage)
    image = keras.Input((st.resolution, st.resolution, channels), name="image")
    h = FadeConv2D(w[last], 1, old_out=None if new_block else old(last), name=f"d_fromrgb{st.resolution}")(image)
    for i in range(last, 0, -1):
        r, fresh = 4 << i, new_block and i == last
        h = FadeConv2D(w[i], 3, old_in=None if fresh else old(i), old_out=None if fresh else old(i),
                       name=f"d{r}_conv1")(h)
        h = FadeConv2D(w[i - 1], 3, old_in=None if fresh else old(i), old_out=None if fresh else old(i - 1),
                       name=f"d{r}_conv2")(h)
        h = layers.AveragePooling2D(2, name=f"d{r}_down")(h)
        if fresh:  # thesis figure 6b: (1 - alpha) * fromRGB_old(avgpool(x)) + alpha * block(fromRGB_new(x))
            prev = layers.AveragePooling2D(2, name="d_rgb_down")(image)
            prev = FadeConv2D(w[i - 1], 1, old_out=old(i - 1), name=f"d_fromrgb{r // 2}")(prev)
            h = AlphaBlend(name="d_blend")([prev, h])
    split = carried(0) if carried(0) is not None and carried(0) < w[0] else None  # tau mixes in either mode
    h = MinibatchStd(old_channels=split, name="d4_mbstd")(h)
    h = FadeConv2D(w[0], 3, old_in=None if old(0) is None else old(0) + 1, old_out=old(0), name="d4_conv")(h)
    h = FadeConv2D(w[0], 4, padding="valid", old_in=old(0), old_out=old(0), name="d4_dense")(h)
    h = FadeConv2D(1, 1, old_in=old(0), activation=None, dtype="float32", name="d_out")(h)
    return keras.Model(image, layers.Flatten(dtype="float32", name="logits")(h), name=name)


# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 1: a property gradient by hand
#
# **Learning goals.** After this lesson you can
#
# 1. compute the expected property gradient magnitude E[|grad_X F|] of an output curve with `np.gradient`,
#    and say what a score of 0.01 means;
# 2. run the shuffle test yourself and draw its null distribution, and explain why it is two-sided;
# 3. explain why a perfectly smooth *tiny* trend is "significant" while a single late *jump* may not be, and
#    name the reading class propgrad gives each.
#
# Everything here is numpy on made-up curves: no model runs. Lesson 2 puts real models behind the curves.
# The method is Penzel & Denzler, *Locally Explaining Prediction Behavior via Gradual Interventions and
# Measuring Property Gradients* (WACV 2026).

# %%
import numpy as np
import matplotlib.pyplot as plt

import propgrad

# %% [markdown]
# ## 1. An output curve
#
# An intervention changes one property X of one image in n steps: I_0 (the input), I_1, ..., I_n. A model's
# output for one class along those steps is a curve F(I_0), ..., F(I_n). Here are three made-up curves of
# p(cat) over 11 steps: a ramp, a flat curve with a jump at the last step, and noise.

# %%
steps = np.arange(11)
ramp = np.linspace(0.9, 0.4, 11)                      # p(cat) falls steadily by 0.05 per step
jump = np.r_[np.full(10, 0.9), 0.1]                   # nothing happens, then everything at the last step
noise = 0.8 + 0.03 * np.random.default_rng(0).standard_normal(11)

fig, ax = plt.subplots(figsize=(6, 3))
for name, curve in [("ramp", ramp), ("late jump", jump), ("noise", noise)]:
    ax.plot(steps, curve, marker="o", label=name)
ax.set(xlabel="step", ylabel="p(cat)", ylim=(0, 1))
ax.legend()
plt.show()

# %% [markdown]
# ## 2. E[|grad_X F|] with `np.gradient`
#
# The score is the mean over steps of |np.gradient(y)| with unit spacing: central differences inside,
# one-sided differences at both ends. A score of 0.01 means the output moves one percentage point per step
# on average. `propgrad.property_gradient` is exactly this:

# %%
def score_by_hand(curve):
    return np.mean(np.abs(np.gradient(curve)))

for name, curve in [("ramp", ramp), ("late jump", jump), ("noise", noise)]:
    print(f"{name:10s} by hand {score_by_hand(curve):.4f}   propgrad {propgrad.property_gradient(curve):.4f}")

# %% [markdown]
# ### Exercise 1
# A curve rises from 0.2 to 0.8 in a straight line over 31 steps (30 intervals). What is its E[|grad_X F|]?
# Work it out on paper first, then put the number in `answer_1`.

# %%
answer_1 = None  # your answer: a number

# %% tags=["solution"]
# (Teacher's solution, kept in the lesson so that it runs in CI; students delete or skip this cell.)
answer_1 = 0.6 / 30

# %%
# Checking cell
line = np.linspace(0.2, 0.8, 31)
assert answer_1 is not None, "set answer_1 to a number"
assert np.isclose(answer_1, propgrad.property_gradient(line)), (
    f"answer_1 = {answer_1}, but the score of that line is {propgrad.property_gradient(line):.4f}: a straight "
    "line has the same gradient at every step, the total rise divided by the number of intervals")
print("Exercise 1: correct.")

# %% [markdown]
# ## 3. The shuffle test, by hand
#
# Is a score systematic or could the same outputs in a random order give it? Shuffle the order K times,
# score each shuffle, and compare. A smooth trend scores **far below** the shuffles (shuffling a ramp
# creates jumps), noise sits in the middle of them, so the test is two-sided about the null's mean m:
#
# p = (1 + #{|T_perm - m| >= |T_obs - m|}) / (K + 1)
#
# (the +1 counts the observed order as one of the permutations, so p is never 0: Phipson & Smyth 2010.)

# %%
def shuffle_test_by_hand(curve, k=2000, seed=0):
    rng = np.random.default_rng(seed)
    observed = score_by_hand(curve)
    null = np.array([score_by_hand(rng.permutation(curve)) for _ in range(k)])
    m = null.mean()
    p = (1 + np.sum(np.abs(null - m) >= np.abs(observed - m))) / (k + 1)
    return observed, null, p

fig, axes = plt.subplots(1, 3, figsize=(11, 2.8))
for ax, (name, curve) in zip(axes, [("ramp", ramp), ("late jump", jump), ("noise", noise)]):
    observed, null, p = shuffle_test_by_hand(curve)
    ax.hist(null, bins=40, color="0.7")
    ax.axvline(observed, color="C3", label=f"observed {observed:.3f}")
    ax.set_title(f"{name}: p = {p:.4f}")
    ax.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# propgrad's `permutation_test` does the same as one array operation (10,000 shuffles in milliseconds). Its
# p-values differ from the titles above by up to a few hundredths: those came from 2,000 shuffles drawn by another
# random stream, and a shuffle test's p is an estimate whose precision grows with the number of shuffles (its
# smallest value is 1/(k+1): 0.0005 for 2,000, 0.0001 for 10,000). What must agree is the verdict at alpha = 0.01.

# %%
for name, curve in [("ramp", ramp), ("late jump", jump), ("noise", noise)]:
    test = propgrad.permutation_test(curve, n_permutations=10_000, rng=0)
    print(f"{name:10s} score {test.statistic:.4f}  p {test.pvalue:.4f}")

# %% [markdown]
# The ramp is systematic (p far below 0.01). The late jump is **not**: shuffling a curve that is flat except
# for one value moves that value somewhere else, and its summed gradient barely changes. The prediction still
# flips from cat to dog at the last step. Significance and size are different questions.
#
# ### Exercise 2
# Make a perfectly smooth curve whose score is tiny (below 0.0001 per step, e.g. a saturated output that
# drifts from 0.99990 to 0.99995) and test it. Put the curve in `tiny` and its p-value in `tiny_p`.

# %%
tiny = None    # an array of 11 values
tiny_p = None  # propgrad.permutation_test(tiny, rng=0).pvalue

# %% tags=["solution"]
tiny = np.linspace(0.99990, 0.99995, 11)
tiny_p = propgrad.permutation_test(tiny, n_permutations=10_000, rng=0).pvalue

# %%
# Checking cell
assert tiny is not None and len(tiny) >= 5, "tiny must be an array of at least 5 values"
assert propgrad.property_gradient(tiny) < 1e-4, (
    f"the score of your curve is {propgrad.property_gradient(tiny):.2g}: make the change smaller (below 1e-4 per step)")
assert tiny_p is not None and tiny_p <= 0.01, (
    f"p = {tiny_p}: a smooth monotone curve should be significant whatever its size; is it monotone?")
print(f"Exercise 2: a drift of {propgrad.property_gradient(tiny):.1e} per step has p = {tiny_p:.4f}: "
      "significant, and it says nothing about whether the change matters.")

# %% [markdown]
# ## 4. Reading the answer in plain words
#
# Because p alone misleads, propgrad reads every curve (`propgrad.reading`): its **size** comes from the curve's
# change (highest minus lowest value: negligible under 0.01, strong from 0.1), its **shape** from the curve
# (steady rise or fall, U, one dominant step...), and only *systematic or not* from the test. The classes, and
# the tier each one ranks in (every ranked table puts tier a first, then sorts by the change):
#
# | class (`reading.kind`) | tier | when (defaults) |
# | --- | --- | --- |
# | abrupt | a | one step carries most of a strong change |
# | strong (strong and systematic) | a | change >= 0.1 and significant |
# | flips | a | the prediction flips and the output moves by at least 0.01 |
# | systematic (small but systematic) | b | change between 0.01 and 0.1, significant |
# | erratic (moved, not significant) | c | the output moved, not significantly, no dominant step, no flip |
# | negligible (systematic but negligible) | d | significant, change under 0.01 |
# | none (no measurable effect) | e | change under 0.01, not significant |

# %% [markdown]
# ### Exercise 3
# Which reading class (`reading.kind`, the reading's `class` in report.json: "abrupt", "strong", "flips",
# "systematic", "erratic", "negligible" or "none") does each curve get? Predict it from the table and the curves'
# numbers above: fill in the dictionary first; the next cell reads the curves, and the check after it compares.

# %%
answer_3 = {"ramp": None, "late jump": None, "noise": None, "tiny drift": None}

# %% tags=["solution"]
answer_3 = {"ramp": "strong", "late jump": "abrupt", "noise": "erratic", "tiny drift": "negligible"}

# %%
from propgrad.reading import read_curve
from propgrad.score import prediction_flips

readings = {}
for name, curve in [("ramp", ramp), ("late jump", jump), ("noise", noise), ("tiny drift", tiny)]:
    test = propgrad.permutation_test(curve, n_permutations=10_000, rng=0)
    # two columns [p(cat), p(dog)], so that the argmax gives the predicted class per step
    flips = prediction_flips(np.c_[curve, 1 - curve]).flip_steps
    readings[name] = read_curve(curve, significant=test.pvalue <= 0.01, pvalue=test.pvalue, flip_steps=flips,
                                output="cat")
    print(f"{name:10s} tier {readings[name].tier}: {readings[name].full}")

# %%
# Checking cell
for name, reading in readings.items():
    assert answer_3[name] == reading.kind, (
        f"{name}: you said {answer_3[name]!r}, propgrad reads {reading.kind!r} ({reading.label}). "
        "Decide in the documented order: one dominant step of a strong change (abrupt), then strong and "
        "significant, then a flip, then the size (under 0.01: negligible if significant, none if not), else small: "
        "systematic or erratic")
print("Exercise 3: correct.")

# %% [markdown]
# ## In the app
# The first tab's first preset shows all of this on a real model: open
# [the fur-versus-background preset](/?example=fur-vs-background) on a running app (`python app.py`),
# unfold "Null distributions" under the result, and find each row's reading in the table (its answer, per model,
# stands above it).
#
# ## Teacher's notes
# - **Solutions** are the cells tagged `solution` (they run in CI, so the lesson is checked end to end).
#   `python -m propgrad lessons --notebooks students/ --student` writes student copies without them (`--html OUT
#   --student` the executed pages without them).
# - Exercise 1: 0.6 / 30 = 0.02; the ends use one-sided differences, which for a line equal the central ones.
# - Exercise 2: any monotone curve is significant for the gradient; the point is that p measures
#   *systematic*, not *large* (ASA statement on p-values, 2016). Students who add noise to their curve get a
#   large p: a good discussion of what "tiny" means relative to noise.
# - Exercise 3: ramp = strong, late jump = abrupt (not significant, one step carries everything, the
#   prediction flips; its reading says no shuffle test can judge a single late step, and that the prediction
#   flips all the same), noise = erratic (it moves, not systematically), tiny drift = negligible (significant, yet it
#   moves by 5e-5: tier d, ranked below everything that moved). Ask which class would change with 21 steps.
# - Timing: about 20 minutes in class with discussion.

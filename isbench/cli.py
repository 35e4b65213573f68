"""Command line: ``isbench run | train | leaderboard | plot | list`` (a thin layer over the API).

A mistake a user can make (unknown name, missing folder, bad checkpoint, a model
returning the wrong shape) ends in one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import ast
import functools
import sys
from pathlib import Path

import click

__all__ = ["main"]


def _user_errors(fn):
    """Turn ValueError/FileNotFoundError into a one-line message and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (ValueError, FileNotFoundError, ImportError) as exc:
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            click.echo(f"isbench: error: {msg}", err=True)
            sys.exit(2)
        except KeyboardInterrupt:
            click.echo("isbench: interrupted; finished records are kept (rerun with --resume)",
                       err=True)
            sys.exit(130)

    return wrapper


def _parse_model_args(pairs: tuple[str, ...]) -> dict:
    """``k=v`` pairs; values are Python literals where they parse, strings otherwise."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.isidentifier():
            raise ValueError(f"--model-arg {pair!r}: expected key=value")
        try:
            out[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            out[key] = value
    return out


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="isbench")
def main() -> None:
    """Benchmark click-based interactive image segmenters."""


@main.command()
@click.option("--model", required=True, help="Registered name, package.module:Class, or plug-in.")
@click.option("--checkpoint", help="Weights file passed to the model as checkpoint=.")
@click.option("--model-arg", "model_args", multiple=True, metavar="K=V",
              help="Constructor argument for the model (repeatable).")
@click.option("--dataset", default="synthetic", show_default=True)
@click.option("--data-root", type=click.Path(), help="Folder holding the dataset.")
@click.option("--mode", type=click.Choice(["single", "mist"]),
              help="Protocol; inferred from --strategy when omitted.")
@click.option("--strategy", help="MIST strategy (default worst-with-limit).")
@click.option("--protocol", default="isbench", show_default=True,
              type=click.Choice(["isbench", "ritm", "focalclick", "dynamite"]))
@click.option("--iou-thr", type=float, help="IoU threshold (MIST 0.85; single stops at 0.90).")
@click.option("--max-clicks", type=int, default=20, show_default=True, help="Single: click limit.")
@click.option("--tau", type=int, default=10, show_default=True, help="MIST clicks per object.")
@click.option("--beta", type=int, default=10, show_default=True,
              help="MIST per-object limit / round-robin window.")
@click.option("--fusion-clicks", type=click.Choice(["own", "shared"]), default="own",
              show_default=True, help="ArgmaxFusion click policy (single-instance models in MIST).")
@click.option("--fuse", type=click.Choice(["final", "every-click"]), default="final",
              show_default=True, help="ArgmaxFusion: fuse once at the end or at every click.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--limit", type=int, help="Only the first N images.")
@click.option("--out", type=click.Path(), help="Run directory (default results/<model>-...).")
@click.option("--resume", is_flag=True, help="Continue an interrupted run.")
@click.option("--overwrite", is_flag=True, help="Replace an existing run directory.")
@click.option("--device", default="cpu", show_default=True)
@click.option("--perturb", type=click.Choice(["none", "misleading", "jitter"]), default="none",
              show_default=True, help="Click perturbation (robustness runs).")
@click.option("--misleading", type=int, default=5, show_default=True,
              help="Misleading clicks per object (single) / image (MIST).")
@click.option("--misleading-kinds", default="repetitive,false", show_default=True,
              help="Comma-separated kinds of misleading clicks.")
@click.option("--jitter-sigma", type=float, default=0.5, show_default=True,
              help="Jitter σ as a fraction of the error region's inscribed radius.")
@click.option("--repeats", type=int, default=1, show_default=True,
              help="Jitter: repeat the run with K seeds and report the spread.")
@click.option("--workers", type=int, default=1, show_default=True,
              help="Threads decoding images ahead of the model (0 = none).")
@click.option("--shard", "shard_text", metavar="I/N",
              help="Evaluate only slice I of N (job arrays); combine with isbench merge.")
@click.option("--no-plots", is_flag=True, help="Skip the figures.")
@_user_errors
def run(model_args, no_plots, misleading_kinds, shard_text, **opts) -> None:
    """Run a model on a dataset under a protocol; write records, summary and plots."""
    from isbench.leaderboard import format_table
    from isbench.runner import RunSettings
    from isbench.runner import run as run_

    kinds = tuple(k.strip() for k in misleading_kinds.split(",") if k.strip())
    from isbench.sharding import parse_shard

    settings = RunSettings(model_args=_parse_model_args(model_args), plots=not no_plots,
                           misleading_kinds=kinds, **opts)
    shard = parse_shard(shard_text) if shard_text is not None else None
    out, row = run_(settings, shard=shard)
    if row is None:
        if shard is not None:
            click.echo(f"shard {shard.index}/{shard.count} done in {out}; when every shard is "
                       f"done: isbench merge {out}")
        return
    import pandas as pd

    click.echo(format_table(pd.DataFrame([row])))
    click.echo(f"records, summary.csv and plots in {out}")


@main.command()
@click.option("--model", default="dynamite-mitb0-small", show_default=True,
              help="dynamite-<config> (see isbench list).")
@click.option("--dataset", default="synthetic", show_default=True,
              type=click.Choice(["synthetic"]), help="Training data (its train split).")
@click.option("--out", required=True, type=click.Path(), help="Folder for checkpoints and log.")
@click.option("--epochs", type=int, help="Passes over the training scenes.")
@click.option("--input-size", type=int, help="Shortest image side in training.")
@click.option("--eval-size", type=int,
              help="Shortest image side at evaluation, stored in the checkpoint [input size].")
@click.option("--train-size", type=int, help="Number of synthetic train scenes.")
@click.option("--batch-size", type=int)
@click.option("--lr", type=float, help="AdamW learning rate.")
@click.option("--max-corrections", type=int, help="Corrective clicks per scene: 0 to this.")
@click.option("--subset-prob", type=float,
              help="Share of scenes with only some objects annotated (the rest background).")
@click.option("--seed", type=int)
@click.option("--init", type=click.Path(),
              help="Start from these DynaMITe weights (fine-tune) instead of random ones.")
@click.option("--resume", is_flag=True, help="Continue from OUT/checkpoint.pth.")
@_user_errors
def train(model, dataset, out, resume, **opts) -> None:
    """Train DynaMITe on the bundled data; OUT/model_final.pth loads with --checkpoint."""
    from isbench.reference_models.dynamite.train import TrainConfig
    from isbench.reference_models.dynamite.train import train as train_

    config = model.removeprefix("dynamite-") if model.startswith("dynamite-") else None
    if config is None:
        raise ValueError(
            f"--model {model!r}: expected dynamite-<config>, e.g. dynamite-mitb0-small"
        )
    tcfg = TrainConfig(config=config, **{k: v for k, v in opts.items() if v is not None})
    train_(tcfg, out, resume=resume)
    click.echo(f"checkpoint.pth, log.jsonl and model_final.pth in {out}")


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("-o", "--output", type=click.Path(), help="CSV file to write.")
@_user_errors
def leaderboard(paths, output) -> None:
    """One row per run found under PATHS (default results/), printed and optionally saved."""
    from isbench.leaderboard import format_table
    from isbench.leaderboard import leaderboard as board

    df = board(paths or ("results",))
    if output:
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        df.to_csv(output, index=False)
    click.echo(format_table(df))
    if output:
        click.echo(f"written to {output}")


@main.command()
@click.argument("run_dir", type=click.Path())
@click.option("--no-plots", is_flag=True)
@_user_errors
def merge(run_dir, no_plots) -> None:
    """Combine the shards of RUN_DIR (from --shard runs) into one run; write its summary."""
    import pandas as pd

    from isbench.leaderboard import format_table, write_run_summary
    from isbench.sharding import merge_shards

    _, records = merge_shards(run_dir)
    row = write_run_summary(run_dir)
    if not no_plots:
        from isbench.plots import plot_runs

        plot_runs([run_dir], Path(run_dir) / "plots")
    click.echo(format_table(pd.DataFrame([row])))
    click.echo(f"merged {len(records)} records into {run_dir}")


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("-o", "--output", type=click.Path(), default="results/plots", show_default=True)
@_user_errors
def plot(paths, output) -> None:
    """Figures comparing every run found under PATHS (default results/)."""
    from isbench.plots import plot_runs
    from isbench.records import find_runs

    runs = find_runs(paths or ("results",))
    if not runs:
        raise ValueError("no run directories found")
    for path in plot_runs(runs, output):
        click.echo(str(path))


@main.command()
@click.option("--model", required=True)
@click.option("--checkpoint")
@click.option("--model-arg", "model_args", multiple=True, metavar="K=V")
@click.option("--clicks", default="1,5,10,50,200", show_default=True,
              help="Comma-separated click counts.")
@click.option("--size", default="480x640", show_default=True, help="Image HEIGHTxWIDTH.")
@click.option("--repeats", type=int, default=3, show_default=True)
@click.option("--device", default="cpu", show_default=True)
@_user_errors
def bench(model, checkpoint, model_args, clicks, size, repeats, device) -> None:
    """Time one model alone as the number of clicks grows (set_image once, then predict)."""
    from isbench.bench import bench_model
    from isbench.runner import RunSettings, build_model, device_clock

    try:
        counts = [int(c) for c in clicks.split(",")]
        height, width = (int(v) for v in size.lower().split("x"))
    except ValueError:
        raise ValueError(f"--clicks {clicks!r} / --size {size!r}: expected e.g. 1,5,10 and "
                         "480x640") from None
    settings = RunSettings(model=model, checkpoint=checkpoint, device=device,
                           model_args=_parse_model_args(model_args))
    adapter = build_model(settings)
    rows = bench_model(adapter, counts, height, width, repeats, clock=device_clock(device)[0])
    click.echo(f"{model} on one {height}x{width} image, median of {repeats}:")
    click.echo(f"{'clicks':>7} {'t_image ms':>11} {'t_click ms':>11} {'avg/interaction ms':>19}")
    for r in rows:
        avg = (r["t_image"] / r["clicks"] + r["t_click"]) * 1000  # FDRN: t_θ1 / n + t_θ2
        click.echo(f"{r['clicks']:>7} {r['t_image'] * 1000:>11.2f} {r['t_click'] * 1000:>11.2f} "
                   f"{avg:>19.2f}")


@main.command(name="list")
def list_() -> None:
    """Models, strategies, datasets and protocol presets."""
    from isbench.datasets import DATASETS
    from isbench.protocols import PROTOCOLS
    from isbench.registry import MODELS, plugin_entries
    from isbench.strategies.objects import MIST_STRATEGIES

    click.echo("models:")
    for name, e in sorted(MODELS.items()):
        needs = " [needs --checkpoint]" if e.needs_checkpoint else ""
        extra = f" [pip install \"isbench[{e.extra}]\"]" if e.extra else ""
        click.echo(f"  {name:28s} {e.kind:6s} {e.summary}{needs}{extra}")
    for name, target in sorted(plugin_entries().items()):
        click.echo(f"  {name:28s} plug-in {target}")
    click.echo("  package.module:Class         any adapter class of yours")
    click.echo("strategies:")
    click.echo("  single: standard (RITM clicker)")
    click.echo(f"  mist:   {', '.join(MIST_STRATEGIES)}")
    click.echo("datasets:")
    for name, d in sorted(DATASETS.items()):
        root = " [needs --data-root]" if d.needs_root else ""
        click.echo(f"  {name:28s} {'/'.join(d.protocols):12s} {d.summary}{root}")
    click.echo("protocols:")
    for name, p in PROTOCOLS.items():
        click.echo(f"  {name:12s} threshold {p.threshold}, exclusion radius single "
                   f"{p.single_exclusion_radius} / mist {p.mist_exclusion_radius}, "
                   f"NoF {p.nof_rule}, MIST rng {p.mist_rng}")

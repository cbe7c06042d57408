"""``phi ml train|evaluate|list``: leak-free classifiers on a dataset, stored under PHI_HOME/models."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from phi.cli._common import (
    EndOpt,
    PathOpt,
    StartOpt,
    TimeframeOpt,
    VendorOpt,
    _load,
    console,
    nonblank,
)

ml_app = typer.Typer(help="Train, evaluate and list leak-free classifiers (needs the ml extra).", no_args_is_help=True)

NameOpt = Annotated[str | None, typer.Option("--name", help="Store the model as PHI_HOME/models/NAME (default: SYMBOL_MODEL).")]


def _f(v: Any, fmt: str = ".3f") -> str:
    try:
        return format(float(v), fmt)
    except (TypeError, ValueError):
        return "-"


def _dataset_meta(symbol: str, start: str | None, end: str | None, timeframe: str, vendor: str, path: str | None, ds: Any) -> dict[str, Any]:
    frame = ds.frame
    return {
        "symbol": ds.metadata.get("symbol", symbol), "vendor": vendor, "timeframe": timeframe,
        "start": f"{frame.index[0]:%Y-%m-%d}", "end": f"{frame.index[-1]:%Y-%m-%d}", "path": path,
        "synthetic": bool(getattr(ds, "synthetic", False)),
    }  # fmt: skip


def print_scores(model: Any) -> None:
    """The CV folds and the hold-out of a classifier, as tables."""
    from rich.table import Table

    t = Table(title=f"purged walk-forward CV ({model.folds} folds, embargo {model.embargo} bars)",
              caption="IS: the fold's model on its own training samples; OOS: on the fold's test bars")
    for col in ("fold", "test bars", "train n", "test n", "IS acc", "OOS acc", "IS AUC", "OOS AUC", "OOS log loss"):
        t.add_column(col, justify="right")
    for r in model.cv_scores.to_dict(orient="records"):
        t.add_row(str(r["fold"]), f"{str(r['test_start'])[:7]}..{str(r['test_end'])[:7]}", str(r["n_train"]),
                  str(r["n_test"]), _f(r.get("train_accuracy")), _f(r["accuracy"]), _f(r.get("train_auc")),
                  _f(r["auc"]), _f(r["log_loss"]))
    console.print(t)
    ho = model.holdout_scores
    console.print(
        f"hold-out {str(ho['start'])[:10]}..{str(ho['end'])[:10]} ({ho['n']} bars, {_f(100 * ho['up_share'], '.1f')} % up, "
        f"never used for training): accuracy [bold]{_f(ho['accuracy'])}[/], log loss {_f(ho['log_loss'])}, AUC {_f(ho['auc'])}"
        f"; in-sample (the final model on its training samples): accuracy {_f(ho.get('train_accuracy'))}, "
        f"AUC {_f(ho.get('train_auc'))}",
        highlight=False,
    )


@ml_app.command("train")
def train(
    symbol: Annotated[str, typer.Argument(help="Ticker (DEMO for synthetic data).")] = "DEMO",
    start: StartOpt = None,
    end: EndOpt = None,
    timeframe: TimeframeOpt = "1D",
    vendor: VendorOpt = "demo",
    path: PathOpt = None,
    model: Annotated[str, typer.Option("--model", "-m", help="rf, gb, lr or lgbm.")] = "rf",
    label: Annotated[str, typer.Option("--label", help="direction or triple_barrier.")] = "direction",
    horizon: Annotated[int, typer.Option("--horizon", help="Bars ahead (the triple barrier's time limit).")] = 1,
    profit: Annotated[float, typer.Option("--profit", help="Triple barrier: profit barrier as a fraction (0.02 = 2 %).")] = 0.02,
    stop: Annotated[float, typer.Option("--stop", help="Triple barrier: stop barrier as a fraction.")] = 0.02,
    folds: Annotated[int, typer.Option("--folds", help="Walk-forward CV folds.")] = 5,
    embargo: Annotated[int | None, typer.Option("--embargo", help="Embargo in bars (default max(horizon, 1 % of the bars)).")] = None,
    holdout: Annotated[float, typer.Option("--holdout", help="Share of the bars kept as the untouched hold-out.")] = 0.2,
    features: Annotated[str, typer.Option("--features", help="Feature set: all or wyckoff.")] = "all",
    seed: Annotated[int, typer.Option("--seed", help="Model seed.")] = 0,
    name: NameOpt = None,
) -> None:
    """Train a classifier with purged walk-forward CV and a final hold-out; store it."""
    from phi.errors import ConfigError, unknown_choice
    from phi.ml.models import MODELS
    from phi.ml.store import check_name, check_save_name, models_root, save_model
    from phi.ml.train import train_classifier

    if model not in MODELS:  # before any bar is fetched, and before it names the default model
        raise ConfigError(unknown_choice("model", model, MODELS))
    if name is not None:
        check_name(name)  # before any bar is fetched
    ds = _load(symbol, start, end, timeframe, vendor, path)
    sym = str(ds.metadata.get("symbol", symbol))
    name = f"{sym}_{model}".replace("^", "").replace("=", "") if name is None else name  # `--name ""` is refused by the store
    check_save_name(name)
    with console.status(f"Training {model} on {len(ds.frame)} bars of {sym} ...", spinner="dots") as status:
        m = train_classifier(
            ds.frame, model=model, label=label, horizon=horizon, folds=folds, embargo=embargo,
            holdout=holdout, seed=seed, profit=profit, stop=stop, feature_set=features,
            progress=lambda frac, msg: status.update(f"Training {model}: {msg} ({frac:.0%})"),
        )  # fmt: skip
    m.data["dataset"] = _dataset_meta(symbol, start, end, timeframe, vendor, path, ds)
    m.data["symbol"] = m.data.get("symbol") or sym
    print_scores(m)
    save_model(m, name)
    console.print(f"stored as [bold]{name}[/] in {models_root() / name} (card.md, metadata.json, model.joblib)", highlight=False)
    if getattr(ds, "synthetic", False):
        console.print("[bold yellow]SYNTHETIC DEMO DATA[/] - generated locally, not market prices.")


@ml_app.command("evaluate")
def evaluate(
    name: Annotated[str, typer.Argument(help="A stored model (phi ml list).")],
    symbol: Annotated[str | None, typer.Argument(help="Ticker to score on (default: the model's own data).")] = None,
    start: StartOpt = None,
    end: EndOpt = None,
    timeframe: Annotated[str | None, typer.Option("--timeframe", "-t", callback=nonblank, help="Default: the model's.")] = None,
    vendor: Annotated[str | None, typer.Option("--vendor", "-v", callback=nonblank, help="Default: the model's.")] = None,
    path: PathOpt = None,
) -> None:
    """Show a stored model's CV and hold-out, check its data fingerprint, and score it on
    the bars after its training data (and the latest P(up))."""
    import pandas as pd

    from phi.ml.scores import score
    from phi.ml.store import load_metadata, load_model

    meta = load_metadata(name)
    if meta["kind"] == "rl_agent":
        from phi.cli.rl import evaluate as rl_evaluate

        rl_evaluate(name, symbol, start, end, timeframe, vendor, path)
        return
    m = load_model(name)
    dsm = m.data.get("dataset") or {}
    own = symbol is None
    ds = _load(
        symbol or dsm.get("symbol", "DEMO"), dsm.get("start") if start is None else start, end, timeframe or dsm.get("timeframe", "1D"),
        vendor or dsm.get("vendor", "demo"), path or (dsm.get("path") if (vendor or dsm.get("vendor")) == "csv" else None),
    )  # fmt: skip
    console.print(f"[bold]{name}[/]: {m.kind}, {m.label.describe()}, {len(m.features)} features", highlight=False)
    print_scores(m)
    bars = ds.frame
    if own:
        m.check_data(bars)
        console.print(f"data fingerprint matches the training bars ({m.fingerprint[:12]})", highlight=False)
    import numpy as np

    from phi.ml.labels import make_labels

    p = m.predict_proba(bars)
    y, _ = make_labels(bars, m.label)
    # own data: only the bars after the training data are new; another symbol: every bar is
    new = bars.index > pd.Timestamp(m.data["last"]) if own else np.ones(len(bars), dtype=bool)
    ok = new & p.notna().to_numpy() & ~np.isnan(y)
    if ok.any():
        s = score(y[ok], p.to_numpy()[ok])
        what = "new bars after the training data" if own else str(ds.metadata.get("symbol", symbol))
        console.print(f"{what} ({s['n']} bars): accuracy [bold]{_f(s['accuracy'])}[/], log loss {_f(s['log_loss'])}, AUC {_f(s['auc'])}", highlight=False)
    else:
        console.print("no labelled bars after the training data to score on (the hold-out above is the out-of-sample score)")
    ts = p.last_valid_index()
    if ts is not None:
        console.print(f"latest P(up) at {ts:%Y-%m-%d}: [bold]{p[ts]:.3f}[/] (signal {2 * p[ts] - 1:+.3f})", highlight=False)


@ml_app.command("list")
def list_cmd() -> None:
    """Stored models and RL agents, with their out-of-sample scores."""
    from rich.table import Table
    from rich.text import Text

    from phi.ml.store import list_models, models_root

    models = list_models()
    if not models:
        console.print(f"no models yet in {models_root()}; train one: phi ml train DEMO --model lgbm", highlight=False)
        return
    t = Table(title=Text(f"models in {models_root()}"))
    for col in ("name", "model", "target", "bars", "out of sample", "created"):
        t.add_column(col, justify="right" if col == "bars" else "left")
    for m in models:
        if "error" in m:
            t.add_row(Text(m["name"]), "?", "", "", Text(m["error"], style="red"), "")
            continue
        d = m.get("data", {})
        created = str(m.get("created_at", ""))[:10]
        if m["kind"] == "classifier":
            cv = m.get("cv_scores", [])
            acc = sum(r["accuracy"] * r["n_test"] for r in cv) / max(1, sum(r["n_test"] for r in cv))
            ho = m.get("holdout_scores", {})
            lab = m.get("label", {})
            target = f"{lab.get('kind', '?').replace('_', ' ')} {lab.get('horizon', '?')} bar(s)"
            oos = (f"CV acc {_f(acc)}, hold-out acc {_f(ho.get('accuracy'))} AUC {_f(ho.get('auc'))} "
                   f"(in-sample acc {_f(ho.get('train_accuracy'))})")
            t.add_row(Text(m["name"]), m["model"], target, str(d.get("rows", "")), oos, created)
        else:
            s = m.get("scores", {})
            oos = (f"test {_f(100 * s.get('test_return', float('nan')), '+.1f')} % vs random "
                   f"{_f(100 * s.get('random_test_return', float('nan')), '+.1f')} %")
            sides = "long/flat/short" if m.get("allow_short") else "long/flat"
            t.add_row(Text(m["name"]), "PPO agent", f"position ({sides})", str(d.get("rows", "")), oos, created)
    console.print(t)

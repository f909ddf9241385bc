"""A double-deletion screen fanned out over a Dask cluster gives the local answer, exactly."""

from __future__ import annotations

import logging

import numpy as np
import pytest

cobra = pytest.importorskip("cobra")
distributed = pytest.importorskip("distributed")

from cellfoundry.metabolism import double_gene_deletion, fva, load_model  # noqa: E402

logging.getLogger("cobra").setLevel(logging.ERROR)


def test_double_gene_deletion_and_fva_on_a_local_dask_cluster() -> None:
    spec = load_model(cobra.io.load_model("textbook"))
    local = double_gene_deletion(spec, as_screen=True)
    local_fva = fva(spec, fraction_of_optimum=0.9)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        executor = client.get_executor()
        seen: list[tuple[int, int]] = []
        remote = double_gene_deletion(
            spec, as_screen=True, executor=executor, progress=lambda d, t: seen.append((d, t))
        )
        remote_fva = fva(spec, fraction_of_optimum=0.9, executor=executor)
        # the work ran on the cluster's workers: each of them holds finished tasks
        processed = client.run(lambda dask_worker: len(dask_worker.state.log))
        assert len(processed) == 2
        assert all(count > 0 for count in processed.values())
    assert np.array_equal(np.isnan(local.growth), np.isnan(remote.growth))
    assert np.nanmax(np.abs(local.growth - remote.growth)) < 1e-9
    assert np.array_equal(local.status, remote.status)
    # (how many LPs depends on how pairs fall into chunks: later pairs are pruned by the
    # optima of earlier ones in the same chunk)
    assert abs(remote.lp_count - local.lp_count) <= 0.05 * local.lp_count
    assert seen[-1][0] == seen[-1][1] > 0
    assert (local_fva - remote_fva).abs().to_numpy().max() < 1e-9

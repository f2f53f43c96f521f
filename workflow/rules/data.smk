# Data stages: synthesize (synthetic datasets only) -> ingest -> normalize -> folds -> sample_patches.
# Cheap stages run one job per dataset (not per scan): a Python start costs ~1-2 s here, and a
# per-scan job would multiply that by hundreds of scans for seconds of work each.


rule synthesize:
    output:
        raw=directory("results/{ds}/raw"),
    log:
        "logs/{ds}/synthesize.log",
    conda:
        "../../envs/crossmodal.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        code=library_code("crossmodal.data.synthesize"),
        synthetic=ds_value("synthetic"),
        layout=ds_value("layout"),
        modalities=ds_value("modalities"),
    script:
        "../scripts/synthesize.py"


# Ingest reads what the layout finds under `root`. Real data: the layout adapter lists the scan
# files while the DAG is built (nothing opened), and param `scans` digests their paths, sizes and
# modification times, so an added, removed or replaced scan reruns ingest and what follows, also
# a copy with an older time (`cp -p`), which an input's mtime misses; as inputs, every file would
# also be printed with the job. Synthetic data depend on rule synthesize. Other params: what the
# manifest and the scan checks depend on. Ingest also refuses a scan that patch sampling could
# not draw from (patch_size, patches_per_class, sample_with_replacement: read by the script
# from the config, not params): the manifest does not depend on them, so editing them reruns
# sample_patches, which repeats that check first, rather than ingest and normalize.
rule ingest:
    input:
        raw=ingest_inputs,
    output:
        manifest="results/{ds}/manifest.tsv",
    log:
        "logs/{ds}/ingest.log",
    conda:
        "../../envs/crossmodal.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=60,
    params:
        code=library_code("crossmodal.data.ingest", "crossmodal.data.sample_patches"),
        root=lambda wc: raw_root(wc.ds),
        dataset=ingest_settings,
        scans=scan_digest,
    script:
        "../scripts/ingest.py"


rule normalize:
    input:
        manifest="results/{ds}/manifest.tsv",
    output:
        volumes=directory("results/{ds}/volumes"),
    log:
        "logs/{ds}/normalize.log",
    conda:
        "../../envs/crossmodal.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=120,
    params:
        code=library_code("crossmodal.data.normalize"),
        modalities=ds_value("modalities"),
        classes=ds_value("classes"),
        mask=mask_settings,
        patch_size=ds_value("patch_size"),
    script:
        "../scripts/normalize.py"


rule folds:
    input:
        manifest="results/{ds}/manifest.tsv",
    output:
        folds="results/{ds}/folds.tsv",
    log:
        "logs/{ds}/folds.log",
    conda:
        "../../envs/crossmodal.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        code=library_code("crossmodal.data.folds"),
        n_folds=ds_value("folds"),
        seed=ds_value("seed"),
    script:
        "../scripts/folds.py"


rule sample_patches:
    input:
        volumes="results/{ds}/volumes",
    output:
        patches=directory("results/{ds}/patches"),
    log:
        "logs/{ds}/sample_patches.log",
    conda:
        "../../envs/crossmodal.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=60,
    params:
        code=library_code("crossmodal.data.sample_patches"),
        class_names=class_names,
        patches_per_class=ds_value("patches_per_class"),
        patch_size=ds_value("patch_size"),
        seed=ds_value("seed"),
        with_replacement=ds_value("sample_with_replacement"),
    script:
        "../scripts/sample_patches.py"

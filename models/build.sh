#!/usr/bin/env bash
# Rebuild the shipped profiles from the dev corpora (on 2 cores: a few minutes to extract
# candidates, cached across the three, then about 5 + 9 + 18 minutes to fit default, ng, rt;
# each fit is a bag of tree ensembles: two for default, four for ng and rt). ng and rt are fitted on the train side of a split
# by duplicate group, the test side staying unseen (bench/quality.py --shipped-only).
set -euo pipefail
cd "$(dirname "$0")/.."
data=${EXTRACTOR_DATASETS:-../shared/datasets}
cache=${EXTRACTOR_TRAIN_CACHE:-$(mktemp -d)}
# default: the seed's style (docs/SEED-STYLE.md), for a site with no tag archive; every article of
# seedstyle.dev (its held-out figures are k-fold: bench/quality.py --folds 5 --profiles default);
# no floor on the cut (a short text gets only the tags it names), each thing once
extractor train "$data/seedstyle.dev.jsonl.gz" --profile default --no-borrow --all --bag 2 --least 1 --once --cache "$cache"
extractor train "$data/ng.dev.jsonl.gz" --profile ng --cache "$cache"
extractor train "$data/rt.dev.jsonl.gz" --profile rt --cache "$cache"

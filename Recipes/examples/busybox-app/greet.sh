#!/bin/sh
# Says who and where it runs.
echo "hello from $(id -un) at ${1:-an unknown time}, in $(pwd)"

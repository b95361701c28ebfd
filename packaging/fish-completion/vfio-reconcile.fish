# fish completion for vfio-reconcile(8): commands, their options, directories for the options that
# take one, --color's words, manifests (*.yaml and *.yml files, and directories) for MANIFEST,
# saved plans (any file) for `apply --plan`, and help's topics. Owner names (`owners OWNER...`) and
# PCI addresses are not offered: the record that knows owners is readable by root only, and the
# devices are those of --sysfs-root, which may be another host's tree.
# tests/packaging/fish_completion_test.sh runs it in fish and holds it to the binary's --help.

# The command and its arguments: the words before the one being completed that are neither
# options nor an option's value. Global options come before the command too, so
# __fish_use_subcommand (any word ends it) and __fish_seen_subcommand_from (`--state-dir plan`
# would count, and `help plan`) would both be wrong here.
function __vfio_reconcile_arguments
    set -l words (commandline -opc)
    set -e words[1]
    set -l value_next 0
    for word in $words
        if test $value_next = 1
            set value_next 0
            continue
        end
        switch $word
            case --sysfs-root --proc-root --modules-dir --state-dir --timeout --color \
                --jobs --device --config-dir --out --plan
                set value_next 1
            case '-*'
            case '*'
                echo $word
        end
    end
end

function __vfio_reconcile_command_is
    set -l arguments (__vfio_reconcile_arguments)
    set -q arguments[1]; and contains -- $arguments[1] $argv
end

# Directories, and files whose names end in the pattern if one is given: fish's own file
# completion of the word (after the `=` of --option=VALUE), filtered. __fish_complete_suffix
# offers every file, and it and __fish_complete_directories offer `--plan=--plan=x` for `--plan=`.
function __vfio_reconcile_files --argument-names pattern
    set -l word (commandline -ct | string replace -r -- '^--[a-z-]+=' '')
    set -q pattern[1]; or set pattern '/'
    complete -C"__fish_command_without_completions $word" |
        string match -r -- "^[^\t]*(?:/|$pattern)(?:\t.*)?\$"
end

set -l command 'vfio-reconcile'
complete -c $command -f

# Before a command: the commands, and the program's own options.
set -l no_command 'test -z "$(__vfio_reconcile_arguments)"'
complete -c $command -n $no_command -a status -d 'Show PCI devices by IOMMU group, with drivers'
complete -c $command -n $no_command -a owners -d 'List the IOMMU groups each owner holds'
complete -c $command -n $no_command -a validate -d 'Check manifests without touching sysfs'
complete -c $command -n $no_command -a plan -d 'Show what apply would do, writing nothing'
complete -c $command -n $no_command -a apply -d 'Bind and release devices as the manifests say'
complete -c $command -n $no_command -a show -d 'Print the vfio bindings as a manifest'
complete -c $command -n $no_command -a help -d "Show the commands, or one command's options"
complete -c $command -n $no_command -a version -d 'Show the version'
complete -c $command -n $no_command -s V -l version -d 'Show the version'

# Global options, taken before the command and after it; and every command's --help.
complete -c $command -s h -l help -d 'Show the options'
complete -c $command -l sysfs-root -x -a '(__vfio_reconcile_files)' -d 'Root of the sysfs tree'
complete -c $command -l proc-root -x -a '(__vfio_reconcile_files)' -d 'Root of the procfs tree'
complete -c $command -l modules-dir -x -a '(__vfio_reconcile_files)' -d "The kernel's module directory"
complete -c $command -l state-dir -x -a '(__vfio_reconcile_files)' -d "Where apply keeps its record and lock"
complete -c $command -l timeout -x -d 'Per device wait: 5s, 500ms, 2m, or seconds'
complete -c $command -l color -x -d Colour \
    -a "auto\t'On a terminal, unless NO_COLOR is set' always\tAlways never\tNever"
complete -c $command -s v -l verbose -d 'More detail (-vv: debug output)'
complete -c $command -s q -l quiet -d 'Errors only'

# Each command's own options and arguments.
complete -c $command -n '__vfio_reconcile_command_is status owners validate plan apply' -l json \
    -d 'Machine-readable output'
complete -c $command -n '__vfio_reconcile_command_is status' -s l -l full \
    -d 'Whole lines on a terminal'
complete -c $command -n '__vfio_reconcile_command_is validate plan apply' \
    -a '(__vfio_reconcile_files "\.ya?ml")' -d Manifest
complete -c $command -n '__vfio_reconcile_command_is plan' -l detailed-exitcode \
    -d 'Exit 2 when there are changes to apply'
complete -c $command -n '__vfio_reconcile_command_is plan apply' -l explain -d 'Say why'
complete -c $command -n '__vfio_reconcile_command_is plan apply' -l no-prune \
    -d 'Keep groups no manifest names any more'
complete -c $command -n '__vfio_reconcile_command_is plan' -l out -r -F \
    -d 'Also save the plan to FILE, for apply --plan'
complete -c $command -n '__vfio_reconcile_command_is apply' -l dry-run \
    -d 'Plan and check everything, write nothing'
complete -c $command -n '__vfio_reconcile_command_is apply' -l jobs -x \
    -d 'IOMMU groups changed in parallel (1-64, default 4)'
complete -c $command -n '__vfio_reconcile_command_is apply' -s y -l yes \
    -d 'Release groups no manifest names without asking'
complete -c $command -n '__vfio_reconcile_command_is apply' -l wait \
    -d 'Wait for another run instead of exiting 75'
complete -c $command -n '__vfio_reconcile_command_is apply' -l boot -d "The boot unit's run"
complete -c $command -n '__vfio_reconcile_command_is apply' -l early -d "The initramfs's run"
complete -c $command -n '__vfio_reconcile_command_is apply' -l device -x \
    -d 'Only the IOMMU group of this PCI device'
complete -c $command -n '__vfio_reconcile_command_is apply' -l config-dir -x \
    -a '(__vfio_reconcile_files)' -d 'Where --boot finds its manifests'
# A saved plan: any file (plan --out names it as the user likes: gpu.plan, tfplan-style).
complete -c $command -n '__vfio_reconcile_command_is apply' -l plan -r -F \
    -d 'Carry out the plan that plan --out saved'
complete -c $command -n '__vfio_reconcile_command_is show' -l match-ids \
    -d 'Match by vendor:device instead of by address'
# `help` takes one command.
complete -c $command -n 'test "$(__vfio_reconcile_arguments)" = help' \
    -a 'status owners validate plan apply show help version' -d Command

"""The paper's experiments as ``inpaintbench experiment NAME``: Tables VI-VII and Figs. 10-16.

Everything that exists for this one paper lives here, not in the core: the
rows of its tables (:mod:`.comparison`), the generalisation study
(:mod:`.generalisation`), the CIFAR-10 encoder study (:mod:`.encoder_study`,
its settings in :mod:`.encoder_study_config`, its reports in
:mod:`.accuracy_report`, its data in :mod:`.cifar`) and the commands
(:mod:`.cli`, :mod:`.encoder_study_cli`).  They are built from the core's
experiment toolkit (:mod:`inpaintbench.experiments`,
:mod:`inpaintbench.cli.stages`), which any other experiment plugin can use.

Plugin discovery imports this module for every command, so it imports only
the hook marker; the commands are imported when the command line is built.
"""

from inpaintbench import hookimpl


@hookimpl
def register_commands(cli):
    from .cli import experiment_group

    cli.add_command(experiment_group)

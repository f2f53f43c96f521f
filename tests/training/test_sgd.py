"""Plain SGD: the same weights as torch.optim.SGD, and no torch._dynamo in a training job."""

import subprocess
import sys
import textwrap
from pathlib import Path

import torch

from crossmodal.training.loss import combined_loss
from crossmodal.training.network import AxialNet
from crossmodal.training.sgd import sgd_update


def _net():
    return AxialNet(2, 9, (2, 3, 3), 4, True, torch.Generator().manual_seed(0))


def _train(optimizer_for):
    """Five updates with decreasing learning rates on seeded batches; returns the state dict.

    ``optimizer_for(net)`` returns ``step(lr)``, the update under test.
    """
    net = _net()
    step = optimizer_for(net)
    gen = torch.Generator().manual_seed(1)
    for i in range(5):
        x = torch.randn(6, 2, 9, 9, 9, generator=gen)
        present = torch.rand(6, 2, generator=gen) < 0.7
        present[:, 0] = True
        net.zero_grad(set_to_none=True)
        combined_loss(x, net(x, present), 0.1).total.backward()
        step(0.3 / (1 + i))
    return net.state_dict()


def _ours(net):
    return lambda lr: sgd_update(net.parameters(), lr)


def _torch_optim(net):
    optimizer = torch.optim.SGD(net.parameters(), lr=0.3, momentum=0.0)

    def step(lr):
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.step()

    return step


def test_sgd_update_gives_the_weights_of_torch_optim_sgd_bit_for_bit():
    ours, theirs, initial = _train(_ours), _train(_torch_optim), _net().state_dict()
    assert ours.keys() == theirs.keys()
    for name in ours:
        assert torch.equal(ours[name], theirs[name]), name
    assert any(not torch.equal(ours[name], initial[name]) for name in ours)  # the updates moved weights


def test_sgd_update_skips_parameters_without_gradient():
    p, q = torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(3))
    p.grad = torch.full((3,), 2.0)
    sgd_update([p, q], 0.25)
    assert p.detach().tolist() == [0.5, 0.5, 0.5] and q.detach().tolist() == [1.0, 1.0, 1.0]


def test_a_training_job_does_not_import_torch_dynamo(tmp_path):
    """torch.optim (and torch._dynamo through it) is a large share of a short job's start-up."""
    script = textwrap.dedent(f"""
        import sys
        sys.path[:0] = [{str(Path(__file__).parent)!r}, {str(Path(__file__).parents[1])!r}]
        from pathlib import Path
        from test_train import write_tiny_dataset, _train_files
        root = Path({str(tmp_path / "data")!r})
        dataset = write_tiny_dataset(root)
        _train_files(root, dataset, root / "out")
        assert (root / "out" / "features.npz").exists()
        print("dynamo" if "torch._dynamo" in sys.modules else "no dynamo")
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip().splitlines()[-1] == "no dynamo"

"""The matmul demo's CPU-vs-GPU race on this machine's accelerator (CUDA or MPS), printed.

The demo's GPU branch cannot run in CI (no GPU there); run this where one is lent:

    python benchmarks/device_demo_check.py
"""

from gptviz.lessons.matmul_timing import available_device, race_cpu_vs_device, seconds_text


def main() -> None:
    device = available_device()
    print(f"device: {device}")
    if device == "cpu":
        print("no CUDA or MPS here: nothing to race (the demo says so on screen)")
        return
    race = race_cpu_vs_device()
    print(f"1000x2000 @ 2000: CPU {seconds_text(race.cpu_single.seconds)}, "
          f"{device} {seconds_text(race.device_single.seconds)}")
    print(f"1000x2000 @ 2000x1000: CPU {seconds_text(race.cpu_batch.seconds)}, "
          f"{device} {seconds_text(race.device_batch.seconds)}")
    print(f"copy to {device}: {seconds_text(race.copy_seconds)}; "
          f"largest difference from the CPU result: {race.max_difference:.2e}")
    assert race.max_difference < 1e-2, "the GPU result differs from the CPU's"


if __name__ == "__main__":
    main()

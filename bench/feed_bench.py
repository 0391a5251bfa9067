"""The nightly feed for 100,000 and 1,000,000 products: rows/s, peak RSS, and the ratio to csv.writer.

Targets: the CSV rendered at >= 90 % of the speed of Python's own csv.writer writing the same rows in
the same run, net of building the rows (issue 17; the feed issue asked 50 % gross); peak RSS <= 256 MB,
growing less than 10 % from 100k to 1M products.

Each (size, case) runs in a fresh interpreter. Cases:
  csv, csv.gz, xml, xml.gz -> null   rendering alone (the bytes are counted, then dropped)
  csv, xml.gz -> s3                  streamed with `upload_stream` (8 MiB parts) to a moto server in its
                                     own process: moto keeps the whole object in memory, and that is
                                     S3's memory, not the feed Lambda's
Peak RSS is the process's VmHWM over the feed's run (reset just before it, so it includes the
floor: the interpreter, koppel, boto3 where used, at rest after a warm-up run); the verdict takes
the start-up peak too, if higher. In the same interpreter csv.writer writes the same products'
CSV rows to /dev/null through a UTF-8 text file, the way one writes a CSV by hand; its output is
checked byte for byte against `csv_rows` first. Products come from a lazy generator
(`Product.model_construct`) whose own cost is timed too; the "net" ratio leaves it out of both
sides. Runs are interleaved (case, csv.writer, generator) and each figure is the best of two.
Times are this process's CPU time: the net ratio subtracts one large figure from another, and on a
busy host other processes' turns would swamp the difference (for the s3 cases, moto's own work and
the waits on it are left out: rows/s is the feed Lambda's own work).
Prints figures; asserts nothing. Set BENCH_SIZES (default "100000,1000000") to change the sizes.
"""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path

from koppel.feeds import CSV_HEADER, csv_rows, google_xml, gzipped, upload_stream
from koppel.models import Money, Product

SIZES = [int(size) for size in os.environ.get("BENCH_SIZES", "100000,1000000").split(",")]
CASES = [("csv", "null"), ("csv.gz", "null"), ("xml", "null"), ("xml.gz", "null"), ("csv", "s3"), ("xml.gz", "s3")]
BUCKET = "feed-bench"
RUNS = 2
STATUS, CLEAR_REFS = Path("/proc/self/status"), Path("/proc/self/clear_refs")  # Linux, as Lambda is
RSS_TARGET_MB, GROWTH_TARGET, RATIO_TARGET = 256, 0.10, 0.90

ADJECTIVES = ["Stoneware", "Porcelain", 'Handmade "Delft"', "Glazed, matte", "Café & bistro", "Enamel", "Bamboo"]
NOUNS = ["mug", "teapot", "saucer", "bowl", "plate 26 cm", "espresso cup", "carafe 1 l", "tea towel"]
COLOURS = ["blue", "white", "ochre", "sage green", "charcoal", "rosé"]
CATEGORIES = ["Kitchen > Mugs", "Kitchen > Tea", "Table > Plates & bowls", "Home textiles"]
PRICES = [Money(amount=Decimal(f"{euros}.{cents:02d}")) for euros in range(2, 90) for cents in (0, 49, 95, 99)]


def ean13(number: int) -> str:
    body = f"87{number:010d}"
    total = 3 * sum(map(int, body[1::2])) + sum(map(int, body[0::2]))
    return body + str((10 - total % 10) % 10)


def products(count: int) -> Iterator[Product]:
    make = Product.model_construct  # valid by construction; validation would only time pydantic
    for n in range(count):
        price = PRICES[n % len(PRICES)]
        yield make(
            sku=f"SKU-{n:08d}",
            title=f"{ADJECTIVES[n % 7]} {NOUNS[n % 8]}, {COLOURS[n % 6]} no. {n}",
            ean="" if n % 10 == 0 else ean13(n),
            price=None if n % 20 == 3 else price,
            sale_price=Money(amount=price.amount - 1) if n % 7 == 0 else None,
            stock_managed=n % 25 != 0,
            quantity=n % 37,
            image_url=f"https://cdn.example.com/images/{n % 997:03d}/{n:08d}.jpg",
            weight_grams=250 + n % 900,
            category=CATEGORIES[n % 4],
            group=f"G-{n // 4:07d}",
        )


def shop_url(product: Product) -> str:
    return f"https://www.example.com/products/{product.sku.lower()}"


def render(fmt: str, count: int) -> Iterator[bytes]:
    if fmt.startswith("csv"):
        chunks = csv_rows(products(count))
    else:
        chunks = google_xml(
            products(count), title="Example shop", link="https://www.example.com", shop_url_for=shop_url
        )
    return gzipped(chunks) if fmt.endswith(".gz") else chunks


def by_hand(rows: Iterable[Product], out: io.TextIOBase) -> None:
    """csv.writer as one would use it: a row per product, written to a text file."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for p in rows:
        managed = p.stock_managed
        writer.writerow(
            [
                p.sku,
                p.title,
                p.ean,
                f"{p.price.amount:.2f} {p.price.currency}" if p.price is not None else "",
                f"{p.sale_price.amount:.2f} {p.sale_price.currency}" if p.sale_price is not None else "",
                p.quantity if managed else "",
                "in_stock" if not managed or p.quantity > 0 else "out_of_stock",
                p.image_url,
                p.weight_grams,
                p.category,
                p.group,
                p.url,
            ]
        )


def rss_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak since start or the last reset) of this process, in MB.

    Not ru_maxrss: Linux carries that over from the parent across fork and exec, so every child
    would report the driver's own peak.
    """
    for line in STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # kB
    raise LookupError(field)


def reset_peak() -> None:
    CLEAR_REFS.write_text("5")  # "5" resets VmHWM to the current RSS (proc(5))


# --- one case, in a fresh interpreter ------------------------------------------------------------
def child(count: int, fmt: str, sink: str, endpoint: str) -> None:
    if sink == "s3":
        import boto3

        client = boto3.client("s3", endpoint_url=endpoint)
        encoding = "gzip" if fmt.endswith(".gz") else None
        kind = "text/csv" if fmt.startswith("csv") else "application/xml"

        def case(n: int) -> int:
            return upload_stream(
                client, BUCKET, f"feeds/bench/{n}.{fmt}", render(fmt, n), content_type=kind, content_encoding=encoding
            )
    else:

        def case(n: int) -> int:
            return sum(map(len, render(fmt, n)))

    def baseline(n: int) -> None:
        with open(os.devnull, "w", encoding="utf-8", newline="") as out:
            by_hand(products(n), out)

    def generate(n: int) -> None:
        for _ in products(n):
            pass

    sample = io.StringIO()
    by_hand(products(2_000), sample)
    same_rows = sample.getvalue().encode() == b"".join(csv_rows(products(2_000)))
    case(2_000)  # warm: lazy imports and first-call costs belong to the floor, not the feed
    floor, startup_peak, peak, size = rss_mb("VmRSS"), rss_mb("VmHWM"), 0.0, 0
    timings: dict[str, list[float]] = {"seconds": [], "baseline": [], "generate": []}
    # Interleaved, best of each: the host's load drifts, and a block of one kind would catch one drift.
    for _ in range(RUNS):
        reset_peak()
        start = time.process_time()
        size = case(count)
        timings["seconds"].append(time.process_time() - start)
        peak = max(peak, rss_mb("VmHWM"))
        for name, run in (("baseline", baseline), ("generate", generate)):
            start = time.process_time()
            run(count)
            timings[name].append(time.process_time() - start)
    figures = {name: min(values) for name, values in timings.items()}
    figures |= {"bytes": size, "floor": floor, "startup_peak": startup_peak, "peak": peak, "same_rows": same_rows}
    print(json.dumps(figures))


# --- the driver ------------------------------------------------------------------------------------
def net_ratio(r: dict[str, float]) -> float | None:
    """csv.writer's time over the case's, each less the time of generating the products."""
    rendering = r["seconds"] - r["generate"]
    return (r["baseline"] - r["generate"]) / rendering if rendering > 0 else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    endpoint = f"http://127.0.0.1:{port}"
    import boto3

    s3 = boto3.client("s3", endpoint_url=endpoint)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": os.environ["AWS_REGION"]})
    return server, endpoint


def measure(count: int, fmt: str, sink: str, endpoint: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(count), fmt, sink, endpoint],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    # Imported here, not at the top: it brings moto, whose tens of MB would sit in every child's floor.
    from koppel_local.provision import offline_environment

    os.environ.update(offline_environment())  # the children inherit it
    server, endpoint = start_moto()
    try:
        results = {(count, fmt, sink): measure(count, fmt, sink, endpoint) for count in SIZES for fmt, sink in CASES}
    finally:
        server.terminate()
        server.wait()

    print(
        f"feed engine, {os.cpu_count()} CPUs; best of {RUNS}; products generated lazily "
        + ", ".join(f"{count:,} in {results[count, 'csv', 'null']['generate']:.2f} s" for count in SIZES)
    )
    print(
        f"  {'products':>9} {'feed':<7}{'to':<5}{'rows/s':>10}{'MB/s out':>9}{'size MB':>9}"
        f"{'peak RSS':>10}{'floor':>7}{'csv.writer rows/s':>19}{'ratio':>7}{'net':>6}"
    )
    for (count, fmt, sink), r in results.items():
        ratio_net = net_ratio(r)
        net = f"{ratio_net:6.2f}" if ratio_net is not None else "   n/a"
        print(
            f"  {count:>9,} {fmt:<7}{sink:<5}{count / r['seconds']:>10,.0f}{r['bytes'] / r['seconds'] / 1e6:>9.1f}"
            f"{r['bytes'] / 1e6:>9.1f}{r['peak']:>8.0f} MB{r['floor']:>4.0f} MB{count / r['baseline']:>17,.0f}"
            f"{r['baseline'] / r['seconds']:>7.2f}{net}"
        )
        if not r["same_rows"]:
            print("    !! csv.writer's rows differ from csv_rows': the ratio compares different work")

    small, large = min(SIZES), max(SIZES)
    print(
        f"targets: csv >= {RATIO_TARGET:.0%} of csv.writer, net of building the rows; peak RSS <= {RSS_TARGET_MB} MB; "
        f"growth {small:,} -> {large:,} < {GROWTH_TARGET:.0%}"
    )
    for fmt, sink in CASES:
        a, b = results[small, fmt, sink], results[large, fmt, sink]
        growth = b["peak"] / a["peak"] - 1
        ratio = min(results[count, fmt, sink]["baseline"] / results[count, fmt, sink]["seconds"] for count in SIZES)
        nets = [net_ratio(results[count, fmt, sink]) for count in SIZES]
        worst_net = min((value for value in nets if value is not None), default=0.0)
        peak = max(a["peak"], b["peak"], a["startup_peak"], b["startup_peak"])
        verdicts = [
            f"peak {peak:.0f} MB ({'ok' if peak <= RSS_TARGET_MB else 'OVER'})",
            f"growth {growth:+.1%} ({'ok' if growth < GROWTH_TARGET else 'OVER'})",
        ]
        if fmt == "csv":
            verdict = "ok" if worst_net >= RATIO_TARGET else "UNDER"
            verdicts.insert(0, f"ratio net {worst_net:.2f} ({verdict}), gross {ratio:.2f}")
        print(f"  {fmt:<7}{sink:<5}" + "; ".join(verdicts))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5])
    else:
        main()

"""bench/upload-memory.sh's data set: an AI4I 2020-shaped CSV (the data set's header, UDI,
Product ID, Type, the five process measurements, the failure flags) of at least MIB mebibytes,
its rows drawn from the published generating process as bench/metrics_scrape_data.py draws
them, rounded as the data set writes them. Prints the rows and bytes written.

    python3 bench/upload_memory_data.py MIB OUT_CSV
"""

import math, random, sys

mib, path = float(sys.argv[1]), sys.argv[2]
target = int(mib * 2**20)
random.seed(2020)
strain_limit = {"L": 11000, "M": 12000, "H": 13000}
header = ("UDI,Product ID,Type,Air temperature [K],Process temperature [K],Rotational speed [rpm],"
          "Torque [Nm],Tool wear [min],Machine failure,TWF,HDF,PWF,OSF,RNF\n")
written, udi = len(header), 0
with open(path, "w") as out:
    out.write(header)
    while written < target:
        lines = []
        for _ in range(10000):
            udi += 1
            variant = random.choices("LMH", weights=(50, 30, 20))[0]
            air = random.gauss(300, 2)
            process = air + 10 + random.gauss(0, 1)
            load = random.gauss(0, 1)
            torque = max(4.0, 40 + 10 * load)
            speed = 1539 - 179 * (0.88 * load + 0.47 * random.gauss(0, 1))
            wear = random.randint(0, 240)
            power = torque * speed * 2 * math.pi / 60
            flags = [int(wear >= 200 and random.random() < 0.1),
                     int(process - air < 8.6 and speed < 1380),
                     int(power < 3500 or power > 9000),
                     int(wear * torque > strain_limit[variant]),
                     int(random.random() < 0.001)]
            lines.append(f"{udi},{variant}{random.randint(10000, 99999)},{variant},{air:.1f},"
                         f"{process:.1f},{speed:.0f},{torque:.1f},{wear},{int(any(flags))},"
                         + ",".join(map(str, flags)) + "\n")
        chunk = "".join(lines)
        out.write(chunk)
        written += len(chunk)
print(f"{udi} rows, {written} bytes ({written / 2**20:.1f} MiB)")

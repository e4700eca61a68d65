"""bench/metrics-scrape.sh's data: a training set in the AI4I 2020 layout (5,000 rows) and one
reading per machine (JSON lines: name, type, values), both drawn from the data set's published
generating process, so some machines land in a failure region (HDF, PWF, OSF) and the fleet gets
every status.

    python3 bench/metrics_scrape_data.py MACHINES TRAIN_CSV FLEET_JSONL
"""

import json, math, random, sys
machines, train_path, fleet_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
random.seed(2020)
strain_limit = {"L": 11000, "M": 12000, "H": 13000}

def process(variant):
    air = random.gauss(300, 2)
    process_temperature = air + 10 + random.gauss(0, 1)
    load = random.gauss(0, 1)  # torque up, speed down: the data set's power stays near constant
    torque = max(4.0, 40 + 10 * load)
    speed = 1539 - 179 * (0.88 * load + 0.47 * random.gauss(0, 1))
    wear = random.randint(0, 240)
    power = torque * speed * 2 * math.pi / 60
    modes = {
        "TWF": wear >= 200 and random.random() < 0.1,
        "HDF": process_temperature - air < 8.6 and speed < 1380,
        "PWF": power < 3500 or power > 9000,
        "OSF": wear * torque > strain_limit[variant],
        "RNF": random.random() < 0.001,
    }
    values = {"air_temperature": round(air, 1), "process_temperature": round(process_temperature, 1),
              "rotational_speed": round(speed), "torque": round(torque, 1), "tool_wear": wear}
    return values, modes

def variant():
    return random.choices("LMH", weights=(50, 30, 20))[0]

with open(train_path, "w") as out:
    out.write("UDI,Type,Air temperature [K],Process temperature [K],Rotational speed [rpm],"
              "Torque [Nm],Tool wear [min],Machine failure,TWF,HDF,PWF,OSF,RNF\n")
    for udi in range(1, 5001):
        v = variant()
        values, modes = process(v)
        flags = [int(f) for f in modes.values()]
        out.write(",".join(map(str, [udi, v, *values.values(), int(any(flags)), *flags])) + "\n")
with open(fleet_path, "w") as out:
    for i in range(1, machines + 1):
        v = variant()
        out.write(json.dumps({"name": f"mill-{i:04}", "type": v, "values": process(v)[0]}) + "\n")

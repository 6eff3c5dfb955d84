-- The reference symbols: the API has no endpoint to create them.
INSERT INTO symbols (symbol, name) VALUES
    ('AAPL', 'Apple Inc.'),
    ('AMD', 'Advanced Micro Devices, Inc.'),
    ('AMZN', 'Amazon.com, Inc.'),
    ('GOOG', 'Alphabet Inc.'),
    ('INTC', 'Intel Corporation'),
    ('META', 'Meta Platforms, Inc.'),
    ('MSFT', 'Microsoft Corporation'),
    ('NFLX', 'Netflix, Inc.'),
    ('NVDA', 'NVIDIA Corporation'),
    ('TSLA', 'Tesla, Inc.')
ON CONFLICT (symbol) DO NOTHING;

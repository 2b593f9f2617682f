"""Sokai's PDFs in every script of the network: fonts per script (fonts), HarfBuzz shaping
(shaping), line breaking and measuring (text), streamed tables and text blocks (flowables).
Used by the report and the badges."""

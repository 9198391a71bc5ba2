Get-Process | Out-File C:\Windows\Temp\triage.txt
